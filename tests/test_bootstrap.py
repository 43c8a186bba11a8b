"""The services bootstrap is idempotent: on a machine that runs everything, it changes nothing."""

import os
import subprocess

import pytest

from tests.conftest import ROOT

BOOTSTRAP = ROOT / "scripts/bootstrap-services.sh"


def run_bootstrap(*, as_user: str | None = None) -> subprocess.CompletedProcess:
    command = [str(BOOTSTRAP)] if as_user is None else ["runuser", "-u", as_user, "--", str(BOOTSTRAP)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def service_pids() -> dict[str, str]:
    def oldest(name: str) -> str:
        return subprocess.run(["pgrep", "-o", "-x", name], capture_output=True, text=True).stdout.strip()

    return {name: oldest(name) for name in ("dockerd", "postgres", "redis-server")}


def installed_packages() -> str:
    return subprocess.run(["dpkg-query", "-W"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def root_only():
    if os.geteuid() != 0:
        pytest.fail("The bootstrap test runs as root (as CI does); run `sudo make test`.")


def test_second_run_changes_nothing(root_only, docker_url, postgres_url, redis_url):
    first = run_bootstrap()
    assert first.returncode == 0, first.stdout + first.stderr
    pids, packages = service_pids(), installed_packages()
    second = run_bootstrap()
    assert second.returncode == 0, second.stdout + second.stderr
    assert all(line.startswith("ok:") for line in second.stdout.splitlines()), second.stdout
    assert service_pids() == pids and all(pids.values())
    assert installed_packages() == packages


def test_without_root_it_only_checks_and_says_what_is_missing(root_only, docker_url):
    result = run_bootstrap(as_user="nobody")
    # nobody may not use the Docker socket, so Docker reads as missing; nothing is installed or started.
    assert result.returncode == 1
    assert "missing: a running Docker engine (start dockerd as root)" in result.stdout
    assert not any(line.startswith(("installing", "starting")) for line in result.stdout.splitlines())
