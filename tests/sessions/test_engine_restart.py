"""Docker restarted under running sessions, for real: without live-restore, dockerd stops every
container as it stops. Per the SESSION_RESTARTS_ALLOWED runtime setting, the next check-ins start
them again (files kept, the desktop reachable again) or end them in error, capacity released."""

import time
import urllib.request
from datetime import timedelta

import docker
import pytest

from apps.agents.choices import AgentStatus
from apps.agents.labels import SESSION_LABEL
from apps.agents.local_images import RECIPES, local_image_build
from apps.agents.models import Agent
from apps.agents.services import manager_token_rotate
from apps.common.runtime_settings import runtime_settings_save
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.services import session_request
from tests.conftest import remove_containers_of_agent
from tests.workers import Workers, wait_for, worker_env

pytestmark = pytest.mark.django_db(transaction=True)
AGENT = "host-restarted"


@pytest.fixture
def workers(live_database_url, redis_url, second_engine, built_images):
    local_image_build(RECIPES[0], docker_url=second_engine.url)
    token = manager_token_rotate(grace=timedelta(minutes=5))
    processes = Workers(worker_env(live_database_url, redis_url, SESSION_LAUNCH_RESEND_SECONDS="4"))
    processes.start_manager(node="mgr-restart")
    processes.start_agent(AGENT, second_engine.url, token, concurrency=2)
    wait_for(lambda: Agent.objects.filter(hostname=AGENT, status=AgentStatus.ONLINE).exists(), what="agent online")
    try:
        yield processes
    finally:
        processes.stop_all()
        remove_containers_of_agent(second_engine.url, AGENT)


def statuses() -> list[tuple[str, int]]:
    return sorted(Session.objects.values_list("status", "restarts"))


def test_sessions_stopped_by_a_docker_restart_start_again_then_end_once_restarts_are_spent(
    workers, second_engine, alice, busybox_image
):
    engine = docker.DockerClient(base_url=second_engine.url)
    runtime_settings_save({"SESSION_RESTARTS_ALLOWED": 1})
    for _ in range(2):
        session_request(user=alice, image=busybox_image)
    wait_for(lambda: statuses() == [(SessionStatus.RUNNING, 0)] * 2, timeout=60, what="both running")

    second_engine.restart()
    assert {c.status for c in engine.containers.list(all=True, filters={"label": SESSION_LABEL})} == {"exited"}
    restarted = time.monotonic()
    wait_for(lambda: statuses() == [(SessionStatus.RUNNING, 1)] * 2, timeout=60, what="both started again")
    print(f"both sessions running again {time.monotonic() - restarted:.1f} s after dockerd was back")
    for session in Session.objects.all():
        (container,) = engine.containers.list(filters={"label": f"{SESSION_LABEL}={session.hex_id}"})
        assert container.id == session.container_id  # the same container, its files kept
        with urllib.request.urlopen(f"http://127.0.0.1:{session.host_port}/", timeout=5) as answer:
            assert answer.status == 200  # published again, on the port on record
    host = Agent.objects.get(hostname=AGENT)
    assert host.reserved_sessions == 2

    second_engine.restart()  # each session has used its one restart: both end, capacity released
    wait_for(lambda: statuses() == [(SessionStatus.ERROR, 1)] * 2, timeout=60, what="both ended")
    assert all("stopped (exited)" in message for message in Session.objects.values_list("status_message", flat=True))
    host.refresh_from_db()
    assert (host.reserved_cores, host.reserved_memory, host.reserved_sessions) == (0, 0, 0)
    wait_for(
        lambda: not engine.containers.list(all=True, filters={"label": SESSION_LABEL}),
        timeout=30,
        what="the stopped containers removed",
    )
