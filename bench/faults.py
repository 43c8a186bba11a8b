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

For each it prints what happened, the sessions stranded (not where they should end), the capacity
leaked (reserved on the agent beyond what its sessions hold) and the seconds to recover.

usage: DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/faults.py
"""

import contextlib
import os
import time
from datetime import timedelta

import docker
import redis
from _django import ROOT, test_database
from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.test.utils import override_settings

from apps.agents.labels import SESSION_LABEL
from apps.agents.local_images import RECIPES, local_image_build
from apps.agents.models import Agent
from apps.agents.services import manager_token_rotate
from apps.common.units import GIB
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.services import session_destroy, session_request
from tests.policies import all_users_policy
from tests.servers import free_port
from tests.workers import Workers, wait_for, worker_env

AGENT = "faults"
RESEND_SECONDS = 4


class FaultWorkers(Workers):
    """The platform's workers, with the agent started again as after a crash."""

    def __init__(self, env: dict, *, token: str):
        super().__init__(env)
        self.token = token

    def start_agent_again(self) -> None:
        self.start_agent(AGENT, settings.DOCKER_URL, self.token, concurrency=4)


def leaked_capacity() -> float:
    agent = Agent.objects.get(hostname=AGENT)
    held = Session.objects.filter(agent=agent, status__in=SessionStatus.HOLDING, capacity_released=False)
    return round(agent.reserved_cores - (held.aggregate(total=Sum("reserved_cores"))["total"] or 0), 3)


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


SCENARIOS = [
    agent_killed_mid_launch,
    container_stopped,
    live_updates_down_during_destroy,
    manager_killed_in_a_burst,
    redis_connections_killed,
    redis_stalled,
    postgres_backends_terminated,
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
