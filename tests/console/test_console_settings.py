"""Runtime settings (console, Settings): admins only, checked and saved all at once, audited,
and read by every place that used the environment variable."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import AuditEvent
from apps.accounts.selectors import user_policy
from apps.accounts.throttle import TooManyFailures, failure_record, failures_check
from apps.agents.choices import AgentStatus
from apps.agents.models import AgentStat
from apps.agents.services import agent_checkin, agent_stats_prune, agents_mark_offline, manager_token_rotate
from apps.chat.services import chat_message_post
from apps.common.errors import ApplicationError, InvalidInput
from apps.common.models import RuntimeSetting
from apps.common.runtime_settings import RUNTIME_SETTINGS, runtime_setting, runtime_settings_save
from apps.registry.models import Registry
from apps.registry.services import registries_auto_update
from apps.sessions.services import session_launch_spec
from tests.agents.factories import CREDENTIAL, agent, host_report
from tests.sessions.stub_sessions import stub_session

pytestmark = pytest.mark.django_db


def form(**changes) -> dict:
    return {spec.name: str(changes.get(spec.name, spec.initial)) for spec in RUNTIME_SETTINGS}


def test_the_settings_page_refuses_plain_users(client, alice):
    assert client.get("/console/settings/").status_code == 302
    client.force_login(alice)
    assert client.get("/console/settings/").status_code == 403
    assert client.post("/console/settings/", form(CHAT_HISTORY_SIZE=3)).status_code == 403
    assert not RuntimeSetting.objects.exists()


def test_the_page_shows_each_setting_with_its_environment_value(console, settings):
    settings.CHAT_HISTORY_SIZE = 42
    page = console.get("/console/settings/").content.decode()
    for spec in RUNTIME_SETTINGS:
        assert spec.label in page and spec.name in page
    assert 'name="CHAT_HISTORY_SIZE" value="42"' in page and "Environment: 42." in page


def test_saving_changes_what_every_process_reads_and_audits_each_change(console):
    response = console.post("/console/settings/", form(CHAT_HISTORY_SIZE=7, SESSION_KEEPALIVE_SECONDS=600))
    assert response.status_code == 302
    assert runtime_setting("CHAT_HISTORY_SIZE") == 7 and runtime_setting("SESSION_KEEPALIVE_SECONDS") == 600
    events = AuditEvent.objects.filter(action="console.settings.change").order_by("target")
    assert [(event.target, event.details["new"]) for event in events] == [
        ("CHAT_HISTORY_SIZE", 7),
        ("SESSION_KEEPALIVE_SECONDS", 600),
    ]
    assert 'value="7"' in console.get("/console/settings/").content.decode()


def test_a_bad_value_saves_nothing_and_says_the_bounds(console):
    response = console.post("/console/settings/", form(CHAT_HISTORY_SIZE=7, AGENT_CHECKIN_INTERVAL=1))
    assert response.status_code == 200
    assert "greater than or equal to 5" in response.content.decode()
    assert not RuntimeSetting.objects.exists()
    with pytest.raises(InvalidInput, match="between 5 and 600"):
        runtime_settings_save({"CHAT_HISTORY_SIZE": 7, "AGENT_CHECKIN_INTERVAL": 1})
    with pytest.raises(InvalidInput, match="Unknown setting"):
        runtime_settings_save({"DEBUG": 1})
    assert not RuntimeSetting.objects.exists()


def test_setting_the_environments_value_again_follows_the_environment(settings):
    runtime_settings_save({"CHAT_HISTORY_SIZE": 7})
    runtime_settings_save({"CHAT_HISTORY_SIZE": settings.CHAT_HISTORY_SIZE})
    assert not RuntimeSetting.objects.exists()
    settings.CHAT_HISTORY_SIZE = 11
    assert runtime_setting("CHAT_HISTORY_SIZE") == 11


def test_session_defaults_come_from_the_settings_unless_a_group_sets_them(alice):
    runtime_settings_save({"SESSION_KEEPALIVE_SECONDS": 900, "SESSION_LIFETIME_SECONDS": 7200})
    policy = user_policy(alice)
    assert (policy.keepalive_expiration, policy.session_lifetime) == (900, 7200)


def test_the_start_timeout_reaches_the_launch_and_the_stall_sweep(alice):
    runtime_settings_save({"SESSION_START_TIMEOUT_SECONDS": 45})
    session, _token = stub_session(alice)
    spec = session_launch_spec(session)
    assert spec["start_timeout"] == 45
    started = session.start_requested_at or session.created_at
    assert spec["not_after"] == pytest.approx((started + timedelta(seconds=90)).timestamp())


def test_chat_limits_come_from_the_settings(alice):
    session, _token = stub_session(alice)
    session.share_id = "share-1"
    session.save()
    runtime_settings_save({"CHAT_MESSAGE_MAX_LENGTH": 5, "CHAT_RATE_LIMIT_MESSAGES": 1})
    with pytest.raises(ApplicationError, match="limited to 5 characters"):
        chat_message_post(session=session, sender=alice, body="too long")
    chat_message_post(session=session, sender=alice, body="hi")
    with pytest.raises(ApplicationError, match="at most 1 every"):
        chat_message_post(session=session, sender=alice, body="again")


def test_sign_in_limits_come_from_the_settings():
    runtime_settings_save({"LOGIN_FAILURE_LIMIT": 2})
    identities = {"user": "someone@example.com"}
    failure_record("password", identities)
    failures_check("password", identities)
    failure_record("password", identities)
    with pytest.raises(TooManyFailures):
        failures_check("password", identities)


def test_the_offline_threshold_and_stats_retention_come_from_the_settings(settings):
    settings.AGENT_AUTO_APPROVE = True
    token = manager_token_rotate(grace=timedelta(minutes=5))
    host = agent_checkin(token=token, credential=CREDENTIAL, report=host_report("host-a"))
    now = host.last_checkin_at + timedelta(seconds=100)
    runtime_settings_save({"AGENT_CHECKIN_INTERVAL": 60, "AGENT_OFFLINE_AFTER_MISSED_CHECKINS": 2})
    assert agents_mark_offline(now=now) == []  # 100 s < 2 x 60 s
    runtime_settings_save({"AGENT_CHECKIN_INTERVAL": 30})
    assert [a.hostname for a in agents_mark_offline(now=now)] == ["host-a"]  # 100 s > 2 x 30 s
    AgentStat.objects.filter(agent=host).update(recorded_at=timezone.now() - timedelta(days=3))
    assert agent_stats_prune() == (1, 0)  # a check-in older than a day lives on as its hour's average
    runtime_settings_save({"AGENT_STATS_RETENTION_DAYS": 2})
    assert agent_stats_prune() == (0, 1)


def test_registries_are_read_again_when_their_last_attempt_is_older_than_the_interval(monkeypatch):
    updated = []
    monkeypatch.setattr("apps.registry.services.registry_update", lambda registry: updated.append(registry.url))
    now = timezone.now()
    Registry.objects.all().delete()  # the first-party registry the migrations add
    Registry.objects.create(url="https://a.example/", auto_update=True, last_attempt_at=now - timedelta(minutes=20))
    Registry.objects.create(url="https://b.example/", auto_update=True, last_attempt_at=now - timedelta(hours=2))
    Registry.objects.create(url="https://c.example/", auto_update=True)
    Registry.objects.create(url="https://d.example/", auto_update=False)
    runtime_settings_save({"REGISTRY_AUTO_UPDATE_INTERVAL": 3600})
    registries_auto_update(now=now)
    assert sorted(updated) == ["https://b.example/", "https://c.example/"]
    updated.clear()
    runtime_settings_save({"REGISTRY_AUTO_UPDATE_INTERVAL": 600})
    registries_auto_update(now=now)
    assert sorted(updated) == ["https://a.example/", "https://b.example/", "https://c.example/"]


def test_a_new_checkin_interval_goes_to_running_agents_at_once_and_to_any_that_report_another(
    console, sent, settings, django_capture_on_commit_callbacks
):
    settings.AGENT_AUTO_APPROVE = True
    token = manager_token_rotate(grace=timedelta(minutes=5))
    agent_checkin(token=token, credential=CREDENTIAL, report=host_report("host-a", checkin_interval=30))
    offline = agent("host-b")
    offline.status = AgentStatus.OFFLINE
    offline.save()
    assert sent == []  # host-a checks in at the interval in force
    with django_capture_on_commit_callbacks(execute=True):
        console.post("/console/settings/", form(AGENT_CHECKIN_INTERVAL=10))
    assert sent == [("agents.checkin_interval_set", [10], "agent.host-a")]
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        agent_checkin(token=token, credential=CREDENTIAL, report=host_report("host-a", checkin_interval=30))
    assert sent == [("agents.checkin_interval_set", [10], "agent.host-a")]
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        agent_checkin(token=token, credential=CREDENTIAL, report=host_report("host-a", checkin_interval=10))
    assert sent == []


def test_the_registry_and_monitor_beats_run_often_enough_for_a_changed_interval(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["registry-auto-update"]["schedule"] <= 60
    assert schedule["agents-monitor"]["schedule"] <= 10
