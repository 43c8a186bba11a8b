"""The console's manager token page: which token agents present, rotation shown once, written to
the local agent's token file, audited; admins only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import AuditEvent
from apps.agents.models import Agent, ManagerToken
from apps.agents.services import agent_checkin, manager_token_is_valid, manager_token_rotate
from apps.common.hashing import hash_secret
from apps.common.runtime_settings import runtime_settings_save
from tests.agents.factories import CREDENTIAL, host_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(settings) -> str:
    settings.AGENT_AUTO_APPROVE = True
    return manager_token_rotate(grace=timedelta(minutes=60))


def test_the_page_and_rotation_refuse_plain_users(client, alice, token):
    for method, path in (("get", "/console/manager-token/"), ("post", "/console/manager-token/rotate/")):
        assert getattr(client, method)(path).status_code == 302
    client.force_login(alice)
    assert client.get("/console/manager-token/").status_code == 403
    assert client.post("/console/manager-token/rotate/").status_code == 403
    assert ManagerToken.objects.count() == 1


def test_a_checkin_records_the_token_it_carried(token):
    agent = agent_checkin(token=token, credential=CREDENTIAL, report=host_report("host-a"))
    assert agent.manager_token.token_hash == hash_secret(token)
    # Enrolled, it checks in with its credential; a token the manager does not know is recorded as none.
    agent = agent_checkin(token="not-a-token", credential=CREDENTIAL, report=host_report("host-a"))
    assert agent.manager_token is None


def test_the_page_names_the_agents_on_each_token_and_warns_before_rotating(console, token):
    agent_checkin(token=token, credential=CREDENTIAL, report=host_report("host-a"))
    page = console.get("/console/manager-token/").content.decode()
    assert "1 agent presents it" in page
    assert "These agents still present the current one and should be given the new one: host-a." in page
    assert "None: no token is in its grace window." in page

    new_token = manager_token_rotate(grace=timedelta(minutes=30))
    agent_checkin(token=new_token, credential=CREDENTIAL, report=host_report("host-b"))
    page = console.get("/console/manager-token/").content.decode()
    retiring = page[page.index('id="retiring-tokens"') :]
    assert "host-a" in retiring and "host-b" not in retiring
    expires_at = ManagerToken.objects.get(token_hash=hash_secret(token)).expires_at
    assert f"{expires_at:%Y-%m-%d %H:%M} UTC" in retiring

    ManagerToken.objects.filter(token_hash=hash_secret(token)).update(expires_at=timezone.now() - timedelta(minutes=1))
    page = console.get("/console/manager-token/").content.decode()
    stale = page[page.index('id="stale-agents"') :]
    assert "host-a" in stale and "host-b" not in stale


def test_rotating_shows_the_new_token_once_audits_and_writes_the_local_agents_file(console, token, settings, tmp_path):
    token_file = tmp_path / "manager_token"
    settings.MANAGER_TOKEN_FILE = str(token_file)
    response = console.post("/console/manager-token/rotate/")
    page = response.content.decode()
    new_token = token_file.read_text()
    assert new_token in page and "token file" in page
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    assert manager_token_is_valid(new_token) and manager_token_is_valid(token)  # the old one in its grace
    assert new_token not in console.get("/console/manager-token/").content.decode()
    assert AuditEvent.objects.filter(action="console.manager_token.rotate").count() == 1
    assert Agent.objects.count() == 0


def test_the_grace_window_comes_from_the_settings(console, token):
    runtime_settings_save({"MANAGER_TOKEN_GRACE_MINUTES": 5})
    console.post("/console/manager-token/rotate/")
    retiring = ManagerToken.objects.get(token_hash=hash_secret(token))
    assert timedelta(minutes=4) < retiring.expires_at - timezone.now() <= timedelta(minutes=5)
