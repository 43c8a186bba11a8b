import docker
import pytest

from apps.agents.local_images import RECIPES
from apps.agents.runtime.docker import container_remove
from apps.sessions.launcher import session_container_start

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
