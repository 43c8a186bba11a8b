"""Faults injected into the running platform, and how it recovers.

Starts its own manager worker and agent worker (Celery over the real Redis) on a throwaway
database and the real Docker engine, then, one scenario after another:

- agent killed mid-launch: SIGKILL of the agent worker's process group right after its launch
  created the desktop's container; the worker is started again.
- container stopped: a running session's container stops under it (what a dockerd restart without
  live-restore does to every session).
- live updates down during destroy: the channel layer's Redis refuses connections while a session
  is destroyed.
- manager killed in a burst: SIGKILL of the manager worker while 4 launches are under way,
  restarted 5 s later.
- Redis connections killed: every client connection to Redis (workers' broker connections
  included) is killed while 4 launches are under way.
- Redis stalled: Redis answers no client for 5 s (CLIENT PAUSE) while 4 launches are under way.
- Postgres backends terminated: every other connection to the database is terminated while 4
  launches are under way (on Postgres only).
- dockerd restarted: the engine of a second agent (a second dockerd, as the test suite starts it)
  is restarted under 4 running sessions, which stops their containers; with one restart allowed
  (SESSION_RESTARTS_ALLOWED=1) they must run again, and after a second restart end in error with
  their capacity released.
- daphne killed: SIGKILL of daphne while a desktop socket is open through it, then daphne started
  again on the same port; the session must stay running and a new socket reach its workspace.

For each it prints what happened, the sessions stranded (not where they should end), the capacity
leaked (reserved on the agent beyond what its sessions hold) and the seconds to recover.

usage: DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/faults.py
"""

import contextlib
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import docker
import redis
from _django import ROOT, test_database
from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.test.utils import override_settings
from websockets.sync.client import connect

from apps.agents.labels import SESSION_LABEL
from apps.agents.local_images import RECIPES, local_image_build
from apps.agents.models import Agent
from apps.agents.services import manager_token_rotate
from apps.common.runtime_settings import runtime_settings_save
from apps.common.units import GIB
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.services import session_destroy, session_request
from tests.engines import SecondEngine
from tests.policies import all_users_policy
from tests.servers import daphne_process, free_port
from tests.sessions.rfb_client import handshake_as_browser
from tests.workers import Workers, wait_for, worker_env

AGENT = "faults"
SECOND_AGENT = "faults-docker"
RESEND_SECONDS = 4


class FaultWorkers(Workers):
    """The platform's workers, with the agent started again as after a crash."""

    def __init__(self, env: dict, *, token: str):
        super().__init__(env)
        self.token = token

    def start_agent_again(self) -> None:
        self.start_agent(AGENT, settings.DOCKER_URL, self.token, concurrency=4)


def leaked_capacity() -> float:
    """Cores reserved on the agents beyond what their sessions hold, all agents together."""
    held = Session.objects.filter(status__in=SessionStatus.HOLDING, capacity_released=False)
    reserved = Agent.objects.aggregate(total=Sum("reserved_cores"))["total"] or 0
    return round(reserved - (held.aggregate(total=Sum("reserved_cores"))["total"] or 0), 3)


def until(condition, timeout: float = 120) -> float:
    started = time.monotonic()
    wait_for(condition, timeout=timeout)
    return time.monotonic() - started


def status_of(session) -> str:
    return Session.objects.get(pk=session.pk).status


def containers_of(client, session) -> list:
    return client.containers.list(all=True, filters={"label": f"{SESSION_LABEL}={session.hex_id}"})


def agent_killed_mid_launch(workers, client, user, desktop, _busybox) -> tuple[str, int, float]:
    session = session_request(user=user, image=desktop).session
    wait_for(lambda: containers_of(client, session), timeout=60)
    workers.kill(AGENT)
    workers.start_agent_again()
    recovered = until(lambda: status_of(session) == SessionStatus.RUNNING)
    outcome = f"running with {len(containers_of(client, session))} container(s)"
    stranded = int(status_of(session) != SessionStatus.RUNNING or len(containers_of(client, session)) != 1)
    return outcome, stranded, recovered


def container_stopped(workers, client, user, _desktop, busybox) -> tuple[str, int, float]:
    session = session_request(user=user, image=busybox).session
    wait_for(lambda: status_of(session) == SessionStatus.RUNNING, timeout=60)
    containers_of(client, session)[0].stop(timeout=1)
    recovered = until(lambda: status_of(session) == SessionStatus.ERROR and not containers_of(client, session))
    return "error, container removed, capacity released", int(status_of(session) != SessionStatus.ERROR), recovered


def live_updates_down_during_destroy(workers, client, user, _desktop, busybox) -> tuple[str, int, float]:
    session = session_request(user=user, image=busybox).session
    wait_for(lambda: status_of(session) == SessionStatus.RUNNING, timeout=60)
    refusing = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}/0"]},
        }
    }
    started = time.monotonic()
    with override_settings(CHANNEL_LAYERS=refusing):
        session_destroy(session=Session.objects.get(pk=session.pk))
    wait_for(lambda: status_of(session) == SessionStatus.DELETED, timeout=60)
    stranded = int(bool(containers_of(client, session)))
    return "destroy went out, session deleted", stranded, time.monotonic() - started


def manager_killed_in_a_burst(workers, client, user, _desktop, busybox) -> tuple[str, int, float]:
    sessions = [session_request(user=user, image=busybox).session for _ in range(4)]
    time.sleep(0.3)
    workers.kill("manager")
    time.sleep(5)
    workers.start_manager(node="faults")
    started = time.monotonic()
    wait_for(lambda: all(status_of(s) == SessionStatus.RUNNING for s in sessions), timeout=120)
    stranded = sum(status_of(s) != SessionStatus.RUNNING for s in sessions)
    for session in sessions:
        session_destroy(session=Session.objects.get(pk=session.pk))
    return f"{4 - stranded} of 4 running", stranded, time.monotonic() - started


def burst_then(fault, user, busybox) -> tuple[str, int, float]:
    """4 launches, `fault()` while they are under way, then all must run; they are destroyed after."""
    sessions = [session_request(user=user, image=busybox).session for _ in range(4)]
    time.sleep(0.2)
    fault()
    started = time.monotonic()
    with contextlib.suppress(AssertionError):
        wait_for(lambda: all(status_of(s) == SessionStatus.RUNNING for s in sessions), timeout=120)
    seconds = time.monotonic() - started
    stranded = sum(status_of(s) != SessionStatus.RUNNING for s in sessions)
    for session in sessions:
        session_destroy(session=Session.objects.get(pk=session.pk))
    wait_for(lambda: all(status_of(s) == SessionStatus.DELETED for s in sessions), timeout=120)
    return f"{4 - stranded} of 4 running", stranded, seconds


def postgres_backends_terminated(workers, client, user, _desktop, busybox) -> tuple[str, int, float]:
    def terminate() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )

    return burst_then(terminate, user, busybox)


def redis_connections_killed(workers, client, user, _desktop, busybox) -> tuple[str, int, float]:
    def kill_clients() -> None:
        redis.Redis.from_url(settings.REDIS_URL).client_kill_filter(_type="normal", skipme=True)

    return burst_then(kill_clients, user, busybox)


def redis_stalled(workers, client, user, _desktop, busybox) -> tuple[str, int, float]:
    def stall() -> None:
        redis.Redis.from_url(settings.REDIS_URL).client_pause(5000, all=True)  # every client waits 5 s

    return burst_then(stall, user, busybox)


def docker_restarted(workers, client, user, _desktop, busybox) -> tuple[str, int, float]:
    engine = SecondEngine(Path(tempfile.mkdtemp()) / "dockerd.log")
    engine.start()
    try:
        local_image_build(RECIPES[0], docker_url=engine.url)
        workers.start_agent(SECOND_AGENT, engine.url, workers.token, concurrency=4)
        wait_for(lambda: Agent.objects.filter(hostname=SECOND_AGENT, status="online").exists(), timeout=60)
        there = Image.objects.create(
            docker_image=busybox.docker_image,
            friendly_name="Busybox on the second engine",
            cores=busybox.cores,
            memory=busybox.memory,
            restrict_to_agent=Agent.objects.get(hostname=SECOND_AGENT),
        )
        runtime_settings_save({"SESSION_RESTARTS_ALLOWED": 1})
        sessions = [session_request(user=user, image=there).session for _ in range(4)]
        wait_for(lambda: all(status_of(s) == SessionStatus.RUNNING for s in sessions), timeout=60)
        started = time.monotonic()  # recovery counts from the restart's start: dockerd stops, then starts
        engine.restart()
        wait_for(
            lambda: all(Session.objects.filter(pk=s.pk, status=SessionStatus.RUNNING, restarts=1) for s in sessions),
            timeout=120,
        )
        restarted = time.monotonic() - started
        running_again = sum(status_of(s) == SessionStatus.RUNNING for s in sessions)
        started = time.monotonic()
        engine.restart()  # the one restart is spent: they end, their capacity released
        wait_for(lambda: all(status_of(s) == SessionStatus.ERROR for s in sessions), timeout=120)
        ended = time.monotonic() - started
        stranded = 4 - running_again + sum(status_of(s) != SessionStatus.ERROR for s in sessions)
        outcome = f"{running_again} of 4 started again; again: ended in {ended:.1f} s"
        return outcome, stranded, restarted
    finally:
        runtime_settings_save({"SESSION_RESTARTS_ALLOWED": 0})
        workers.stop(SECOND_AGENT)
        Agent.objects.filter(hostname=SECOND_AGENT).update(enabled=False)  # drained: it is gone
        for container in docker.DockerClient(base_url=engine.url).containers.list(all=True):
            container.remove(force=True)
        engine.stop()


def daphne_killed(workers, client, user, _desktop, busybox) -> tuple[str, int, float]:
    requested = session_request(user=user, image=busybox)
    session = requested.session
    wait_for(lambda: status_of(session) == SessionStatus.RUNNING, timeout=60)
    port = free_port()
    cookie = {"Cookie": f"username={user.username}; session_token={requested.session_token}"}

    def echoes(base_url: str) -> bool:
        url = base_url.replace("http", "ws") + f"/desktop/{session.hex_id}/vnc/websockify"
        with connect(url, origin=base_url, additional_headers=cookie, open_timeout=5) as websocket:
            stream = handshake_as_browser(websocket)
            websocket.send(b"\x01\x00ping")
            return stream.read(6) == b"\x01\x00ping"

    with daphne_process(workers.env, port) as (base_url, daphne):
        assert echoes(base_url)
        daphne.kill()
        daphne.wait(timeout=10)
    killed = time.monotonic()
    with daphne_process(workers.env, port) as (base_url, _daphne):
        reachable = echoes(base_url)
    recovered = time.monotonic() - killed
    stranded = int(status_of(session) != SessionStatus.RUNNING or not reachable)
    session_destroy(session=Session.objects.get(pk=session.pk))
    wait_for(lambda: status_of(session) == SessionStatus.DELETED, timeout=60)
    return "session running, a new socket echoes", stranded, recovered


SCENARIOS = [
    agent_killed_mid_launch,
    container_stopped,
    live_updates_down_during_destroy,
    manager_killed_in_a_burst,
    redis_connections_killed,
    redis_stalled,
    postgres_backends_terminated,
    docker_restarted,
    daphne_killed,
]


def main() -> None:
    for recipe in RECIPES:
        local_image_build(recipe, docker_url=settings.DOCKER_URL)
    client = docker.DockerClient(base_url=settings.DOCKER_URL)
    with test_database() as database_url:
        from django.contrib.auth import get_user_model

        token = manager_token_rotate(grace=timedelta(minutes=5))
        env = worker_env(database_url, settings.REDIS_URL, SESSION_LAUNCH_RESEND_SECONDS=str(RESEND_SECONDS))
        workers = FaultWorkers(env, token=token)
        workers.start_manager(node="faults")
        workers.start_agent_again()
        rows = []
        try:
            wait_for(lambda: Agent.objects.filter(hostname=AGENT, status="online").exists(), what="the agent")
            Agent.objects.filter(hostname=AGENT).update(cores_override=16, memory_override=32 * GIB)
            user = get_user_model().objects.create_user(username="faults")
            all_users_policy(max_sessions_per_user=0)
            busybox = Image.objects.create(
                docker_image=RECIPES[0].tag, friendly_name="Busybox", cores=0.5, memory=GIB // 8
            )
            desktop = Image.objects.create(docker_image=RECIPES[1].tag, friendly_name="Desktop", cores=1, memory=GIB)
            for scenario in SCENARIOS:
                if scenario is postgres_backends_terminated and connection.vendor != "postgresql":
                    continue
                outcome, stranded, seconds = scenario(workers, client, user, desktop, busybox)
                wait_for(
                    lambda: (
                        leaked_capacity() <= 0
                        or not Session.objects.exclude(
                            status__in=[SessionStatus.DELETED, SessionStatus.ERROR, SessionStatus.RUNNING]
                        ).exists()
                    ),
                    timeout=60,
                )
                rows.append((scenario.__name__.replace("_", " "), outcome, stranded, leaked_capacity(), seconds))
        finally:
            workers.stop_all()
            for container in client.containers.list(all=True, filters={"label": f"org.kasm-local.agent={AGENT}"}):
                container.remove(force=True)
    print(f"{'scenario':<34}{'outcome':<46}{'stranded':>9}{'leaked cores':>13}{'recovery s':>11}")
    for name, outcome, stranded, leaked, seconds in rows:
        print(f"{name:<34}{outcome:<46}{stranded:>9}{leaked:>13}{seconds:>11.1f}")


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
