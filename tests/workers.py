"""Worker processes started by tests (manager and agents), each in its own process group."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests import engines
from tests.conftest import ROOT


def worker_env(database_url: str, redis_url: str, **settings: str) -> dict:
    """The environment of test workers: the test database and broker, agents approved on
    enrolment and checking in every 2 s, then `settings` over that."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "AGENT_AUTO_APPROVE": "true",
        "AGENT_CHECKIN_INTERVAL": "2",
        **settings,
    }


class Workers:
    """Starts worker processes in their own process groups and stops them all at the end."""

    def __init__(self, env: dict):
        self.env = env
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str, env: dict | None = None) -> None:
        self.processes[name] = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env={**os.environ, **self.env, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def start_manager(self, *, node: str, concurrency: int = 2) -> None:
        """The manager worker, as "manager"; `node` names it for Celery (unique per test)."""
        command = ["-m", "celery", "-A", "kasm", "worker", "-Q", "manager", "-c", str(concurrency), "-n", f"{node}@%h"]
        self.start("manager", *command)

    def start_agent(
        self, name: str, docker_url: str, token: str = "", *, token_file: Path | None = None, concurrency: int = 1
    ) -> None:
        """The agent worker `name`, as `name`, on the engine at `docker_url`, with the manager token
        given or read from `token_file` (as `make up` runs it)."""
        command = ["manage.py", "run_agent", "--name", name, "--docker-url", docker_url]
        command += ["--concurrency", str(concurrency)]
        command += ["--token-file", str(token_file)] if token_file else []
        env = {"MANAGER_TOKEN": token}
        if docker_url == engines.SOCKET_URL:
            env["SESSION_NETWORK"] = engines.SESSION_NETWORK
        self.start(name, *command, env=env)

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)

    def kill(self, name: str) -> None:
        """SIGKILL the worker's whole process group, as a crash or the OOM killer would."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)


def wait_for(condition, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
