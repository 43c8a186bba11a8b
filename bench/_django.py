"""Shared start of the benchmarks: Django set up on a throwaway test database."""

import os
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kasm.settings")

import django  # noqa: E402

django.setup()

from django.test.utils import setup_databases, teardown_databases  # noqa: E402


@contextmanager
def test_database():
    """A fresh test database (test_<name>), dropped afterwards; yields its DATABASE_URL."""
    from django.db import connection

    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        db = connection.settings_dict
        if db["ENGINE"].endswith("sqlite3"):
            yield f"sqlite:///{db['NAME']}"
        else:
            yield f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    finally:
        teardown_databases(old_config, verbosity=0)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@contextmanager
def running_workers(database_url: str, *, node: str):
    """A manager worker and the local agent worker ("bench") on `database_url`, the agent
    registered; yields their environment (for daphne), stops both afterwards."""
    from datetime import timedelta

    from django.conf import settings

    from apps.agents.models import Agent
    from apps.agents.services import manager_token_rotate
    from tests.workers import Workers, wait_for, worker_env

    token = manager_token_rotate(grace=timedelta(minutes=5))
    env = worker_env(database_url, settings.REDIS_URL, AGENT_CHECKIN_INTERVAL="5")
    workers = Workers(env)
    workers.start_manager(node=node)
    workers.start_agent("bench", settings.DOCKER_URL, token, concurrency=2)
    try:
        wait_for(lambda: Agent.objects.filter(hostname="bench").exists(), what="the agent")
        yield env
    finally:
        workers.stop_all()
