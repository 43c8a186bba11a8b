"""How many agent check-ins per second the manager absorbs, on the real database.

N simulated agents (default 200), each running 3 sessions whose containers it reports, check in
R rounds through the same service the Celery task calls (token check, agent row, stats row,
reconciliation of the sessions), one after another in one process, so the figure is check-ins
per second of one core. The Celery message handling around it is not included.
Target: 1,000 agents every 30 s (33.3/s) should cost under 10 % of one core (at least 333/s).

usage: DATABASE_URL=postgres://... python bench/checkins.py [--agents N] [--rounds R]
"""

import argparse
import time
from datetime import timedelta

from _django import test_database
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from apps.agents.host_report import HostReport, SessionContainer, host_report_from_message
from apps.agents.models import Agent
from apps.agents.services import agent_checkin, manager_token_rotate
from apps.common.installation import installation_id
from apps.common.units import GIB
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session


def sessions_for(agent, owner, image) -> list[str]:
    """Three running sessions on `agent`, as the scheduler and a launch would leave them."""
    sessions = [
        Session(owner=owner, image=image, agent=agent, status=SessionStatus.RUNNING, reserved_cores=1, host_port=40000)
        for _ in range(3)
    ]
    Session.objects.bulk_create(sessions)
    Agent.objects.filter(pk=agent.pk).update(reserved_sessions=3, reserved_cores=3)
    return [session.hex_id for session in sessions]


CREDENTIAL = "bench-agent-credential-" + "b" * 32


def report(index: int, session_ids: list[str]) -> dict:
    installation = installation_id()
    containers = [
        SessionContainer(f"{index:060x}{n:04x}", session_id, "running", installation, f"bench-agent-{index:04d}")
        for n, session_id in enumerate(session_ids)
    ]
    return HostReport(
        hostname=f"bench-agent-{index:04d}",
        address=f"10.0.{index // 250}.{index % 250}",
        docker_version="20.10.24",
        architecture="x86_64",
        cores=32,
        memory_total=128 * GIB,
        memory_used=40 * GIB,
        cpu_percent=37.5,
        disk_total=1000 * GIB,
        disk_free=700 * GIB,
        disk_used=250 * GIB,
        containers=containers,
        images=["kasm-local/busybox-test:latest", "kasm-local/desktop:latest"],
    ).as_message()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    settings.AGENT_AUTO_APPROVE = True  # the benchmark's agents are trusted: it measures check-ins, not approval
    with test_database():
        token = manager_token_rotate(grace=timedelta(minutes=5))
        owner = get_user_model().objects.create_user(username="bench")
        image = Image.objects.create(docker_image="kasm-local/busybox-test:latest", friendly_name="bench")
        messages = []
        for index in range(args.agents):  # registration round, not timed
            agent = agent_checkin(
                credential=CREDENTIAL, token=token, report=host_report_from_message(report(index, []))
            )
            messages.append(report(index, sessions_for(agent, owner, image)))
        started_wall, started_cpu = time.perf_counter(), time.process_time()
        for _ in range(args.rounds):
            for message in messages:
                agent_checkin(credential=CREDENTIAL, token=token, report=host_report_from_message(message))
        wall, cpu = time.perf_counter() - started_wall, time.process_time() - started_cpu
    count = args.agents * args.rounds
    rate = count / wall
    needed = 1000 / 30
    print(f"database: {connection.vendor}")
    print(f"check-ins: {count} from {args.agents} agents in {wall:.2f} s wall, {cpu:.2f} s CPU of this process")
    print(f"throughput: {rate:.0f} check-ins/s (one process, one core)")
    print(f"manager CPU per check-in: {1000 * cpu / count:.2f} ms (database server not included)")
    print(f"1,000 agents every 30 s = {needed:.1f} check-ins/s -> {100 * needed / rate:.1f} % of one core (wall-clock)")


if __name__ == "__main__":
    main()
