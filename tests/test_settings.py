"""Settings come from the environment, in a fresh process each, as they would on a real host."""

import json

import pytest

from tests.conftest import run_manage

PRINT_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "debug": settings.DEBUG,
    "secret_key": settings.SECRET_KEY,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
    "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "cache": settings.CACHES["default"]["BACKEND"],
    "broker": settings.CELERY_BROKER_URL,
}))
"""


def settings_with(env: dict, tmp_path) -> dict:
    base = {"KASM_DATA_DIR": str(tmp_path), "DATABASE_URL": "", "REDIS_URL": "", "SECRET_KEY": "", "DEBUG": ""}
    result = run_manage("shell", "-c", PRINT_SETTINGS, env={**base, **env})
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_defaults_are_embedded_and_safe(tmp_path):
    values = settings_with({}, tmp_path)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(tmp_path / "kasm.sqlite3")
    assert values["debug"] is False
    assert values["channel_layer"] == "channels.layers.InMemoryChannelLayer"
    assert values["cache"].endswith("LocMemCache")
    assert values["allowed_hosts"] == ["127.0.0.1", "localhost"]


def test_database_url_selects_postgres(tmp_path):
    values = settings_with({"DATABASE_URL": "postgres://kasm:pw@db.example:5433/kasm_prod"}, tmp_path)
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["name"] == "kasm_prod"


def test_redis_url_drives_broker_channel_layer_and_cache(tmp_path):
    values = settings_with({"REDIS_URL": "redis://127.0.0.1:6379/3"}, tmp_path)
    assert values["broker"] == "redis://127.0.0.1:6379/3"
    assert values["channel_layer"] == "channels_redis.core.RedisChannelLayer"
    assert values["cache"] == "django.core.cache.backends.redis.RedisCache"


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = settings_with({}, tmp_path)["secret_key"]
    second = settings_with({}, tmp_path)["secret_key"]
    assert first == second and len(first) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_secret_key_from_environment_wins(tmp_path):
    assert settings_with({"SECRET_KEY": "from-the-env"}, tmp_path)["secret_key"] == "from-the-env"
    assert not (tmp_path / "secret_key").exists()


def test_behind_tls_proxy_makes_cookies_secure(tmp_path):
    values = settings_with({"BEHIND_TLS_PROXY": "true", "ALLOWED_HOSTS": "kasm.example.com"}, tmp_path)
    assert values["session_cookie_secure"] and values["csrf_cookie_secure"]
    assert values["allowed_hosts"] == ["kasm.example.com"]


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_unclear_boolean_is_a_clear_error(tmp_path, value):
    result = run_manage("check", env={"KASM_DATA_DIR": str(tmp_path), "DATABASE_URL": "", "DEBUG": value}, check=False)
    assert result.returncode != 0
    assert f"DEBUG='{value}' is not a boolean; use true or false." in result.stderr


USE_REDIS = """
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from kasm.celery import app
cache.set("password-check", "ok", 30)
layer = get_channel_layer()
async_to_sync(layer.send)("password-check", {"type": "hello"})
received = async_to_sync(layer.receive)("password-check")
with app.connection_for_write() as connection:
    connection.ensure_connection(max_retries=1)
print(cache.get("password-check"), received["type"], "broker ok")
"""


@pytest.fixture
def redis_with_password(tmp_path):
    import subprocess

    import redis

    from tests.servers import free_port
    from tests.workers import wait_for

    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--requirepass", "s3cret-pw"]
    process = subprocess.Popen([*command, "--save", "", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port, password="s3cret-pw")
    wait_for(lambda: client.ping(), what="the password-protected Redis")
    yield port
    process.terminate()
    process.wait(timeout=10)


def test_a_redis_that_requires_a_password_serves_broker_layer_and_cache(redis_with_password, tmp_path):
    env = {"KASM_DATA_DIR": str(tmp_path), "DATABASE_URL": "", "SECRET_KEY": ""}
    url = f"redis://:s3cret-pw@127.0.0.1:{redis_with_password}/0"
    assert run_manage("shell", "-c", USE_REDIS, env={**env, "REDIS_URL": url}).stdout.split()[-4:] == [
        "ok",
        "hello",
        "broker",
        "ok",
    ]
    wrong = run_manage("shell", "-c", USE_REDIS, env={**env, "REDIS_URL": url.replace("s3cret", "wrong")}, check=False)
    assert wrong.returncode != 0 and ("WRONGPASS" in wrong.stderr or "invalid" in wrong.stderr.lower())


def test_rediss_urls_verify_the_servers_certificate(tmp_path):
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CELERY_BROKER_USE_SSL, settings.CELERY_BROKER_URL)",
        env={"KASM_DATA_DIR": str(tmp_path), "REDIS_URL": "rediss://:pw@redis.example:6380/0"},
    )
    assert "'ssl_cert_reqs': <VerifyMode.CERT_REQUIRED: 2>" in result.stdout and "rediss://" in result.stdout
