"""A worker killed mid-launch strands nothing: on the real broker, database and Docker engine, an
agent worker killed right after it took a launch is restarted, and the next check-in finishes it."""

import docker
import pytest

from apps.agents.labels import SESSION_LABEL
from apps.agents.models import Agent
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.services import session_request
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_agent_killed_right_after_it_took_a_launch_finishes_it_once_restarted(
    workers, alice, desktop_image, docker_url, token
):
    client = docker.DockerClient(base_url=docker_url)
    session = session_request(user=alice, image=desktop_image).session

    def containers():
        return client.containers.list(all=True, filters={"label": f"{SESSION_LABEL}={session.hex_id}"})

    wait_for(containers, timeout=60, what="the launch to create the container")
    workers.kill("local")  # the agent worker: the launch task dies with it, before any report
    assert Session.objects.get().status == SessionStatus.PROVISIONING

    workers.start_agent("local", docker_url, token, concurrency=2)
    wait_for(
        lambda: Session.objects.get().status == SessionStatus.RUNNING, timeout=90, what="the session to reach running"
    )
    assert len(containers()) == 1
    session.refresh_from_db()
    assert session.host_port and session.container_id == containers()[0].id


def test_a_session_whose_container_stopped_under_it_ends_and_gives_its_capacity_back(
    workers, alice, busybox_image, docker_url
):
    """What a dockerd restart without live-restore does to every session: its container stops."""
    client = docker.DockerClient(base_url=docker_url)
    session = session_request(user=alice, image=busybox_image).session
    wait_for(lambda: Session.objects.get().status == SessionStatus.RUNNING, timeout=60, what="running")
    (container,) = client.containers.list(filters={"label": f"{SESSION_LABEL}={session.hex_id}"})
    container.stop(timeout=1)

    wait_for(lambda: Session.objects.get().status == SessionStatus.ERROR, timeout=30, what="the session to end")
    session.refresh_from_db()
    assert "stopped (exited)" in session.status_message
    host = Agent.objects.get(hostname="local")
    assert (host.reserved_cores, host.reserved_sessions) == (0, 0)
    wait_for(
        lambda: not client.containers.list(all=True, filters={"label": f"{SESSION_LABEL}={session.hex_id}"}),
        timeout=30,
        what="the stopped container removed",
    )
