"""A task sent to one agent's queue runs on that agent's worker, on the real Redis broker."""

import os
import signal
import subprocess
import sys

import pytest

from apps.agents.agent_tasks import agent_engine_version
from apps.agents.runtime.docker import engine_info
from apps.common.queues import agent_queue_name
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def two_agent_workers(redis_url, docker_url):
    """Workers for agents 'alpha' and 'beta', each started as an admin would with `run_agent`."""
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "run_agent",
                "--name",
                name,
                "--docker-url",
                docker_url,
                "--concurrency",
                "1",
            ],
            cwd=ROOT,
            env={**os.environ, "REDIS_URL": redis_url, "MANAGER_TOKEN": "routing-test"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for name in ("alpha", "beta")
    ]
    yield
    for worker in workers:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)


def test_each_agent_answers_on_its_own_queue(two_agent_workers, docker_url):
    for name in ("alpha", "beta", "alpha"):
        result = agent_engine_version.apply_async(queue=agent_queue_name(name)).get(timeout=60)
        assert result == {"agent": name, "docker_version": engine_info(docker_url).version}
