"""Platform processes started by tests: daphne on a free loopback port."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_daphne(env: dict):
    """daphne serving kasm.asgi with `env` over the current environment; yields its base URL."""
    with daphne_process(env, free_port()) as (base_url, _process):
        yield base_url


@contextlib.contextmanager
def daphne_process(env: dict, port: int):
    """daphne on `port`; yields its base URL and its process (for a test that kills it)."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "kasm.asgi:application"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    requests.get(f"{base_url}/health", timeout=1)
                    break
                except requests.ConnectionError:
                    assert process.poll() is None and time.monotonic() < deadline, "daphne did not start"
                    time.sleep(0.2)
            yield base_url, process
        finally:
            if process.poll() is None:
                _stop(process, log)


def _stop(process: subprocess.Popen, log) -> None:
    """SIGTERM, as a service manager stops daphne; if it hangs, fail with its threads' stacks."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)  # kasm/asgi.py: dump every thread's stack to stderr
        time.sleep(1)
        process.kill()
        process.wait()
        log.seek(0)
        tail = log.read()[-20000:].decode(errors="replace")
        raise AssertionError(f"daphne did not stop within 10 s of SIGTERM; its log and threads:\n{tail}") from None
