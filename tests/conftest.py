"""Fixtures shared by the whole suite.

Tests that need Docker, Postgres or Redis fail with a clear message when the service is missing:
a skipped test would pass CI without testing anything.
"""

import contextlib
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import docker
import pytest
from django.conf import settings

from apps.agents.choices import AgentStatus
from apps.agents.local_images import RECIPES
from apps.agents.models import Agent
from apps.agents.runtime.docker import DockerError, engine_ping
from apps.agents.services import manager_token_rotate
from apps.common.units import GIB
from apps.images.choices import CpuAllocationMethod
from apps.images.models import Image
from tests.personas import ALICE, CAROL, PASSWORDS

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgres://kasm:kasm@127.0.0.1:5432/kasm")


# Tests whose behaviour does not depend on the database engine: the browser flows, the proxy's
# byte handling, parsers, the Docker side, and scripts that bring their own database. They are
# marked `engine_independent`, and scripts/test.sh runs them on Postgres only.
ENGINE_INDEPENDENT = (
    "tests/e2e/",
    "tests/test_up.py",
    "tests/test_settings.py",
    "tests/test_daphne.py",
    "tests/test_bootstrap.py",
    "tests/test_celery_routing.py",
    "tests/accounts/test_sign_in_limits.py",
    "tests/agents/test_docker_names.py",
    "tests/agents/test_gpus.py",
    "tests/agents/test_host_report.py",
    "tests/agents/test_local_images.py",
    "tests/agents/test_session_network.py",
    "tests/common/test_channel_layer.py",
    "tests/registry/test_flags.py",
    "tests/registry/test_icons.py",
    "tests/registry/test_parser.py",
    "tests/sessions/test_client_message_filter.py",
    "tests/sessions/test_clipboard_and_idle_filters.py",
    "tests/sessions/test_clipboard_and_idle_proxy.py",
    "tests/sessions/test_engine_restart.py",
    "tests/sessions/test_kasmvnc_proxy.py",
    "tests/sessions/test_manager_crash.py",  # Postgres only: it holds a row lock
    "tests/sessions/test_profiles_on_engine.py",
    "tests/sessions/test_proxy_stream.py",
    "tests/sessions/test_staging_concurrency.py",  # Postgres only: parallel requests
    "tests/sessions/test_staging_on_engine.py",
    "tests/sessions/test_view_only_proxy.py",
)


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if item.path.relative_to(ROOT).as_posix().startswith(ENGINE_INDEPENDENT):
            item.add_marker(pytest.mark.engine_independent)


def require(service: str, check) -> None:
    try:
        check()
    except Exception as error:
        pytest.fail(f"{service} is required by this test and is not answering ({error}); run `make services`.")


@pytest.fixture(scope="session")
def docker_url() -> str:
    def ping():
        try:
            engine_ping(settings.DOCKER_URL)
        except DockerError as error:
            raise RuntimeError(str(error)) from None

    require("Docker", ping)
    return settings.DOCKER_URL


@pytest.fixture(scope="session")
def built_images(docker_url):
    """Both local workspace images, built once per run (a no-op when the engine has the current recipes)."""
    from apps.agents.local_images import local_image_build

    for recipe in RECIPES:
        local_image_build(recipe, docker_url=docker_url)
    return RECIPES


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    url = settings.REDIS_URL
    if not url:
        pytest.fail("REDIS_URL is not set; run the suite with `make test`, which points it at local Redis.")
    require("Redis", lambda: redis.Redis.from_url(url).ping())
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    import psycopg

    require("Postgres", lambda: psycopg.connect(POSTGRES_URL.replace("postgres://", "postgresql://")).close())
    return POSTGRES_URL


def run_manage(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run `manage.py` in a fresh process, as an admin would, with `env` over the current environment."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(autouse=True)
def sign_in_failures_forgotten():
    """Failed sign-ins are counted in the cache, which outlives a test (Redis): each test starts clean."""
    yield
    from django.core.cache import cache

    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        keys = list(client.scan_iter(match="*throttle:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user(username=ALICE, password=PASSWORDS[ALICE])


@pytest.fixture
def carol(django_user_model):
    """A second plain user: a viewer of alice's shared sessions."""
    return django_user_model.objects.create_user(username=CAROL, password=PASSWORDS[CAROL])


@pytest.fixture
def admin_user_with_console(django_user_model):
    """bob: a console admin (through the Administrators group), not Django staff."""
    from apps.accounts.services import user_make_console_admin

    bob = django_user_model.objects.create_user(username="bob", password="bob-password-1")
    user_make_console_admin(user=bob)
    return bob


@pytest.fixture
def console(client, admin_user_with_console):
    """A test client logged in as bob, the console admin."""
    client.force_login(admin_user_with_console)
    return client


@pytest.fixture
def live_database_url(transactional_db) -> str:
    """DATABASE_URL of the test database, for worker processes the test starts (data is committed)."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture(scope="session")
def second_engine(docker_url, tmp_path_factory):
    """A second, separate Docker engine (its own socket, data root and bridge) for a second agent."""
    from tests.engines import SecondEngine

    if os.geteuid() != 0:
        pytest.fail("Starting a second dockerd needs root, as in CI; run `sudo make test`.")
    engine = SecondEngine(tmp_path_factory.mktemp("dockerd2") / "dockerd.log")
    engine.start()
    yield engine
    engine.stop()


@pytest.fixture(scope="session")
def second_docker_url(second_engine) -> str:
    return second_engine.url


@pytest.fixture
def platform(live_database_url, redis_url, docker_url, built_images):
    """Manager worker, the local agent worker and daphne, all on the test database."""
    from tests.servers import running_daphne
    from tests.workers import Workers, wait_for, worker_env

    token = manager_token_rotate(grace=timedelta(minutes=5))
    env = worker_env(live_database_url, redis_url)
    workers = Workers(env)
    workers.start_manager(node="mgr-s")
    workers.start_agent("local", docker_url, token, concurrency=4)
    wait_for(lambda: Agent.objects.filter(hostname="local", status=AgentStatus.ONLINE).exists(), what="agent online")
    try:
        with running_daphne(env) as base_url:
            yield base_url
    finally:
        workers.stop_all()
        remove_containers_of_agent(docker_url, "local")


def remove_containers_of_agent(docker_url: str, agent_name: str) -> None:
    """Sessions a test left running would otherwise live on the shared engine until expiry."""
    import docker

    client = docker.DockerClient(base_url=docker_url)
    for container in client.containers.list(all=True, filters={"label": f"org.kasm-local.agent={agent_name}"}):
        container.remove(force=True)


@pytest.fixture
def busybox_image():
    return Image.objects.create(
        docker_image=RECIPES[0].tag,
        friendly_name="Busybox",
        cores=0.5,
        memory=GIB // 8,
        cpu_allocation_method=CpuAllocationMethod.QUOTAS,
    )


@pytest.fixture
def desktop_image():
    return Image.objects.create(docker_image=RECIPES[1].tag, friendly_name="Desktop", cores=1, memory=GIB)


@pytest.fixture
def volume_name(docker_url):
    """A fresh Docker volume name; every volume whose name starts with it is removed after the test
    (ask for it before fixtures whose containers use the volume: they must go first)."""
    name = f"kasm-profile-test-{uuid.uuid4().hex}"
    yield name
    engine = docker.DockerClient(base_url=docker_url)
    for volume in engine.volumes.list(filters={"name": name}):
        with contextlib.suppress(docker.errors.NotFound):
            volume.remove(force=True)


@pytest.fixture
def sent(monkeypatch):
    """Tasks sent to the broker instead, as (name, args, queue)."""
    from celery import current_app

    tasks = []
    monkeypatch.setattr(
        current_app, "send_task", lambda name, args, queue, **_options: tasks.append((name, args, queue))
    )
    return tasks
