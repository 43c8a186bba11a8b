"""`make up`'s script brings the platform up and takes everything down on SIGTERM to its group."""

import os
import re
import signal
import subprocess
import time

import pytest
import requests

from tests.conftest import ROOT
from tests.servers import free_port


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def up_script(tmp_path, redis_url, docker_url):
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "KASM_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/kasm.sqlite3",
        "REDIS_URL": redis_url,
        "AGENT_NAME": "up-test",
    }
    process = subprocess.Popen(
        [str(ROOT / "scripts/up.sh")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    yield process, port
    if group_alive(process.pid):
        os.killpg(process.pid, signal.SIGKILL)


def read_until(process: subprocess.Popen, pattern: str, timeout: float = 300) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        assert line, "up.sh ended early:\n" + "".join(lines)
        lines.append(line)
        if re.search(pattern, line):
            return lines
    raise AssertionError(f"no line matching {pattern!r} within {timeout} s:\n" + "".join(lines))


def test_up_serves_prints_the_admin_password_and_stops_on_sigterm(up_script):
    process, port = up_script
    lines = read_until(process, r"is up: http://127\.0\.0\.1:\d+/")
    password = re.search(r"password '([^']+)'", "".join(lines)).group(1)
    assert f"http://127.0.0.1:{port}/" in lines[-1]
    session = requests.Session()
    for _ in range(100):
        try:
            session.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
            break
        except requests.ConnectionError:
            time.sleep(0.2)
    response = session.post(
        f"http://127.0.0.1:{port}/accounts/login/",
        data={"username": "admin", "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
    )
    assert response.url == f"http://127.0.0.1:{port}/console/"  # the printed admin lands on the console
    assert any(re.search(r"Updated Kasm Local: [1-9]\d* workspaces", line) for line in lines)
    store = session.get(f"http://127.0.0.1:{port}/console/registry/", timeout=10).text
    assert "Firefox" in store  # a registry-only workspace, listed at first start without an "Update now"

    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=60)
    deadline = time.monotonic() + 30
    while group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not group_alive(process.pid), "processes of make up outlived SIGTERM"
