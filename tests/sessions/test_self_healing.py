"""What is lost with a killed process or a dropped connection is finished or undone by the next
check-in or sweep: launches are sent again, stalled starts fail and give capacity back, deletions
complete, and a live-update push that cannot go out never holds back the command beside it."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.utils import timezone

from apps.agents.choices import AgentStatus
from apps.agents.identity import agent_identity
from apps.agents.models import Agent
from apps.agents.services import agents_mark_offline
from apps.agents.signals import CheckedIn
from apps.common.runtime_settings import runtime_settings_save
from apps.common.units import GIB
from apps.images.models import Image
from apps.sessions import agent_tasks, tasks
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.scheduler import NoCapacity
from apps.sessions.services import (
    session_destroy,
    session_launch_spec,
    session_mark_running,
    session_request,
    sessions_flag_agents_offline,
    sessions_reconcile,
    sessions_stalled_fail,
)
from tests.agents.factories import agent, session_container
from tests.servers import free_port

# Committed for real, so that work queued after commit goes out as in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def image():
    return Image.objects.create(docker_image="kasm-local/busybox-test:latest", friendly_name="Busybox", memory=GIB)


def launched(alice, image) -> Session:
    session = session_request(user=alice, image=image).session
    for key in ("launch-resent", "deleting-gone", "deleting-seen", "destroy-resent"):
        cache.delete(f"sessions:{key}:{session.hex_id}")
    return Session.objects.select_related("agent", "owner", "image").get(pk=session.pk)


def names(sent) -> list[str]:
    return [name for name, _args, _queue in sent]


def test_a_destroy_goes_out_when_live_updates_cannot(alice, image, settings, sent):
    host = agent()
    session = launched(alice, image)
    session_mark_running(session=session, container_id="c" * 64, host_port=40000)
    settings.CHANNEL_LAYERS = {  # a Redis that refuses connections
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}/0"]},
        }
    }
    session_destroy(session=session)
    assert sent[-1] == ("sessions.destroy", [session.hex_id], f"agent.{host.hostname}")
    assert Session.objects.get().status == SessionStatus.DELETING


def test_destroying_a_deleting_session_again_sends_the_destroy_again(alice, image, sent):
    agent()
    session = launched(alice, image)
    session_destroy(session=session)
    session_destroy(session=Session.objects.get())
    assert names(sent).count("sessions.destroy") == 2


def test_a_start_with_no_report_gets_its_launch_again_once_per_interval(alice, image, settings, sent):
    settings.SESSION_LAUNCH_RESEND_SECONDS = 60
    host = agent()
    session = launched(alice, image)
    host.refresh_from_db()  # as a check-in loads it
    now = timezone.now()
    sessions_reconcile(reports=[CheckedIn(host, [])], now=now + timedelta(seconds=30))
    assert names(sent) == ["sessions.launch"]  # only the first
    sessions_reconcile(reports=[CheckedIn(host, [session_container(session.hex_id)])], now=now + timedelta(seconds=61))
    sessions_reconcile(reports=[CheckedIn(host, [])], now=now + timedelta(seconds=90))
    assert names(sent) == ["sessions.launch"] * 2
    sessions_reconcile(reports=[CheckedIn(host, [])], now=now + timedelta(seconds=122))
    assert names(sent) == ["sessions.launch"] * 3
    assert sent[-1][1][0]["session_id"] == session.hex_id
    assert Session.objects.get().status == SessionStatus.PROVISIONING


def test_a_start_that_never_finishes_ends_in_error_and_gives_its_capacity_back(alice, image, settings, sent):
    settings.SESSION_START_TIMEOUT_SECONDS = 120
    host = agent()
    launched(alice, image)
    assert sessions_stalled_fail(now=timezone.now() + timedelta(seconds=200)) == []
    assert len(sessions_stalled_fail(now=timezone.now() + timedelta(seconds=241))) == 1
    session = Session.objects.get()
    assert session.status == SessionStatus.ERROR and "did not start in 240 s" in session.status_message
    host.refresh_from_db()
    assert (host.reserved_cores, host.reserved_sessions) == (0, 0)
    assert names(sent)[-1] == "sessions.destroy"  # whatever container it has goes


def test_a_running_session_whose_container_exited_ends_in_error(alice, image, sent):
    host = agent()
    session = launched(alice, image)
    session_mark_running(session=session, container_id="c" * 64, host_port=40000)
    exited = session_container(session.hex_id)
    exited = type(exited)(**{**exited.__dict__, "status": "exited"})
    host.refresh_from_db()
    sessions_reconcile(reports=[CheckedIn(host, [exited])])
    session.refresh_from_db()
    assert session.status == SessionStatus.ERROR and "stopped (exited)" in session.status_message
    host.refresh_from_db()
    assert host.reserved_sessions == 0 and names(sent)[-1] == "sessions.destroy"


def test_a_stopped_container_is_started_again_as_often_as_the_setting_allows(alice, image, sent):
    runtime_settings_save({"SESSION_RESTARTS_ALLOWED": 1})
    host = agent()
    session = launched(alice, image)
    session_mark_running(session=session, container_id="c" * 64, host_port=40000)
    running = session_container(session.hex_id)
    exited = type(running)(**{**running.__dict__, "status": "exited"})
    host.refresh_from_db()
    sessions_reconcile(reports=[CheckedIn(host, [exited])])
    sessions_reconcile(reports=[CheckedIn(host, [exited])])  # the next check-in, before the launch ran
    session.refresh_from_db()
    assert (session.status, session.restarts) == (SessionStatus.STARTING, 1)
    assert "starting it again" in session.status_message
    assert names(sent) == ["sessions.launch"] * 2  # the request's, then the restart's, once
    assert sent[-1][1][0]["session_id"] == session.hex_id
    host.refresh_from_db()
    assert host.reserved_sessions == 1  # its capacity stays held

    session_mark_running(session=session, container_id="c" * 64, host_port=40001)
    sessions_reconcile(reports=[CheckedIn(host, [exited])])  # stopped again: the restart is spent
    session.refresh_from_db()
    assert (session.status, session.restarts) == (SessionStatus.ERROR, 1)
    host.refresh_from_db()
    assert host.reserved_sessions == 0 and names(sent)[-1] == "sessions.destroy"


def test_a_deleting_session_whose_container_is_gone_is_deleted_after_a_while(alice, image, settings, sent):
    settings.SESSION_LAUNCH_RESEND_SECONDS = 60
    host = agent()
    session = launched(alice, image)
    session_destroy(session=session)
    host.refresh_from_db()
    now = timezone.now()
    sessions_reconcile(reports=[CheckedIn(host, [])], now=now)
    assert Session.objects.get().status == SessionStatus.DELETING  # the destroy may still be on its way
    sessions_reconcile(reports=[CheckedIn(host, [])], now=now + timedelta(seconds=61))
    assert Session.objects.get().status == SessionStatus.DELETED
    host.refresh_from_db()
    assert (host.reserved_cores, host.reserved_sessions) == (0, 0)


def test_one_offline_sweep_flags_the_sessions_of_each_silent_agent_with_its_name(alice, image, settings):
    settings.AGENT_CHECKIN_INTERVAL, settings.AGENT_OFFLINE_AFTER_MISSED_CHECKINS = 30, 3
    silent = timezone.now() - timedelta(minutes=5)
    hosts = [agent(name, last_checkin_at=silent) for name in ("host-a", "host-b")]
    agent("host-c", last_checkin_at=timezone.now())
    for host in hosts:
        Session.objects.create(owner=alice, image=image, agent=host, status=SessionStatus.RUNNING)
    assert sorted(a.hostname for a in agents_mark_offline()) == ["host-a", "host-b"]
    assert dict(Session.objects.values_list("agent__hostname", "status_message")) == {
        "host-a": "Agent 'host-a' is offline; the session may be unreachable.",
        "host-b": "Agent 'host-b' is offline; the session may be unreachable.",
    }
    assert Agent.objects.get(hostname="host-c").status == AgentStatus.ONLINE


def test_the_offline_note_goes_when_the_agent_checks_in_again(alice, image, sent):
    host = agent()
    session = launched(alice, image)
    session_mark_running(session=session, container_id="c" * 64, host_port=40000)
    sessions_flag_agents_offline(agents=[host])
    assert "offline" in Session.objects.get().status_message
    host.refresh_from_db()
    sessions_reconcile(reports=[CheckedIn(host, [session_container(session.hex_id)])])
    assert Session.objects.get().status_message == ""


def test_no_room_while_sessions_are_being_deleted_says_to_try_again(alice, image, sent):
    agent(cores=1)
    first = launched(alice, image)
    session_destroy(session=first)
    with pytest.raises(NoCapacity, match="freeing capacity: try again in a few seconds"):
        session_request(user=alice, image=image)


def test_a_database_outage_is_a_json_503_from_the_developer_api(client, monkeypatch):
    def unreachable(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("apps.sessions.api.public.dispatch.api_key_authenticate", unreachable)
    response = client.post(
        "/api/public/get_kasms", {"api_key": "k", "api_key_secret": "s"}, content_type="application/json"
    )
    assert response.status_code == 503 and "database is unreachable" in response.json()["error_message"]


def test_an_agents_report_is_retried_when_the_database_fails_once(alice, image, monkeypatch, sent):
    host = agent(hostname="local")
    session = launched(alice, image)
    calls = []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("terminating connection due to administrator command")
        return real(**kwargs)

    real = tasks.session_mark_running
    monkeypatch.setattr(tasks, "session_mark_running", flaky)
    monkeypatch.setattr(tasks, "agent_from_identity", lambda identity, about: host)
    tasks.session_launched_task.apply(args=[agent_identity(), session.hex_id, "c" * 64, 40000])
    assert len(calls) == 2 and Session.objects.get().status == SessionStatus.RUNNING


def test_a_destroy_lost_with_its_worker_is_sent_again_while_the_container_stays(alice, image, settings, sent):
    settings.SESSION_LAUNCH_RESEND_SECONDS = 60
    host = agent()
    session = launched(alice, image)
    session_mark_running(session=session, container_id="c" * 64, host_port=40000)
    session_destroy(session=Session.objects.get())
    host.refresh_from_db()
    still_there, now = [session_container(session.hex_id)], timezone.now()
    sessions_reconcile(reports=[CheckedIn(host, still_there)], now=now)
    sessions_reconcile(reports=[CheckedIn(host, still_there)], now=now + timedelta(seconds=30))
    assert names(sent).count("sessions.destroy") == 1
    sessions_reconcile(reports=[CheckedIn(host, still_there)], now=now + timedelta(seconds=61))
    sessions_reconcile(reports=[CheckedIn(host, still_there)], now=now + timedelta(seconds=90))
    assert names(sent).count("sessions.destroy") == 2


def test_a_launch_redelivered_after_its_deadline_starts_nothing(alice, image, settings, monkeypatch, sent):
    settings.SESSION_START_TIMEOUT_SECONDS = 120
    agent()
    session = launched(alice, image)
    spec = session_launch_spec(session)
    assert spec["not_after"] == pytest.approx(session.start_requested_at.timestamp() + 240)
    started = []
    monkeypatch.setattr(agent_tasks, "session_container_start", lambda **kwargs: started.append(kwargs))
    sent.clear()
    agent_tasks.session_launch_task({**spec, "not_after": timezone.now().timestamp() - 1})
    assert started == [] and sent == []
