"""The platform as `make up` runs it: migrate, the printed admin account, daphne serving HTTP + WS."""

import re

import pytest
import requests
from websockets.sync.client import connect

from tests.conftest import run_manage
from tests.servers import running_daphne


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """A fresh data dir and SQLite database, the first admin, and daphne on a free loopback port."""
    data_dir = tmp_path_factory.mktemp("platform")
    env = {"KASM_DATA_DIR": str(data_dir), "DATABASE_URL": f"sqlite:///{data_dir}/kasm.sqlite3"}
    run_manage("migrate", "--noinput", env=env)
    printed = run_manage("create_admin_account", env=env).stdout
    password = re.search(r"password '([^']+)'", printed).group(1)
    assert "password" not in run_manage("create_admin_account", env=env).stdout.split("(")[0]
    with running_daphne(env) as base_url:
        yield base_url, password


def logged_in_session(base_url: str, password: str) -> requests.Session:
    browser = requests.Session()
    browser.get(f"{base_url}/accounts/login/")
    response = browser.post(
        f"{base_url}/accounts/login/",
        data={"username": "admin", "password": password, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": f"{base_url}/accounts/login/"},
    )
    assert response.status_code == 200 and response.url == f"{base_url}/console/"  # admins land on the console
    return browser


def test_health_login_page_and_static_files_are_served(platform):
    base_url, _ = platform
    assert requests.get(f"{base_url}/health", timeout=5).json() == {"status": "ok"}
    assert 'name="password"' in requests.get(f"{base_url}/accounts/login/", timeout=5).text
    css = requests.get(f"{base_url}/static/css/app.css", timeout=5)
    assert css.status_code == 200 and "text/css" in css.headers["Content-Type"]


def test_printed_admin_logs_in_and_django_admin_lists_the_models(platform):
    base_url, password = platform
    page = logged_in_session(base_url, password).get(f"{base_url}/django-admin/", timeout=5).text
    for model in ["Agents", "Images", "Sessions", "Registries", "Chat messages", "API keys", "Zones"]:
        assert f">{model}<" in page, model


def test_live_websocket_needs_a_login_and_checks_the_origin(platform):
    base_url, password = platform
    ws_url = base_url.replace("http", "ws") + "/ws/live/"
    cookie = "; ".join(f"{k}={v}" for k, v in logged_in_session(base_url, password).cookies.items())
    with connect(ws_url, additional_headers={"Cookie": cookie}, origin=base_url, open_timeout=5) as websocket:
        websocket.ping().wait(5)
    with pytest.raises(Exception, match="403"):
        connect(ws_url, additional_headers={"Cookie": cookie}, origin="http://evil.example", open_timeout=5)
