from datetime import timedelta

import docker
import pytest

from apps.agents.choices import AgentStatus
from apps.agents.local_images import RECIPES
from apps.agents.models import Agent
from apps.agents.runtime.docker import container_remove
from apps.agents.services import manager_token_rotate
from apps.sessions.launcher import session_container_start
from tests.conftest import remove_containers_of_agent
from tests.workers import Workers, wait_for, worker_env

BUSYBOX, DESKTOP = RECIPES


@pytest.fixture
def started(docker_url, built_images):
    """Start session containers from launch specs (tests/sessions/test_launcher.py spec()); removed after the test."""
    ids = []

    def start(launch_spec: dict):
        outcome = session_container_start(docker_url=docker_url, spec=launch_spec)
        ids.append(outcome.container_id)
        return outcome, docker.DockerClient(base_url=docker_url).containers.get(outcome.container_id)

    yield start
    for container_id in ids:
        container_remove(docker_url, container_id)


@pytest.fixture
def token(transactional_db) -> str:
    return manager_token_rotate(grace=timedelta(minutes=5))


@pytest.fixture
def workers(live_database_url, redis_url, docker_url, built_images, token):
    """The manager and the "local" agent, for tests that kill them; a start with no report is sent
    again after 4 s."""
    processes = Workers(worker_env(live_database_url, redis_url, SESSION_LAUNCH_RESEND_SECONDS="4"))
    processes.start_manager(node="mgr-c")
    processes.start_agent("local", docker_url, token, concurrency=2)
    wait_for(lambda: Agent.objects.filter(hostname="local", status=AgentStatus.ONLINE).exists(), what="agent online")
    try:
        yield processes
    finally:
        processes.stop_all()
        remove_containers_of_agent(docker_url, "local")
