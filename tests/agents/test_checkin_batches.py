"""Check-ins in batches: what agents queue in Redis, and the manager records many per transaction."""

import json
import logging
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.agents import checkin_queue, services
from apps.agents.checkin_queue import checkin_send, checkins_drain
from apps.agents.models import Agent, AgentStat
from apps.agents.services import Checkin, agent_checkin, agents_checkin, manager_token_rotate
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from tests.agents.factories import CREDENTIAL, host_report, session_container

pytestmark = pytest.mark.django_db

IMPOSTOR = "not-the-credential-this-agent-enrolled-with-" + "x" * 32


@pytest.fixture
def token(settings) -> str:
    settings.AGENT_AUTO_APPROVE = True
    return manager_token_rotate(grace=timedelta(minutes=60))


def enrolled(token: str, count: int) -> list[str]:
    names = [f"host-{index:02d}" for index in range(count)]
    for name in names:
        agent_checkin(token=token, credential=CREDENTIAL, report=host_report(name))
    return names


def with_running_sessions(name: str, count: int) -> list:
    """`count` running sessions on agent `name`, and the containers its check-in reports for them."""
    agent = Agent.objects.get(hostname=name)
    owner, _ = get_user_model().objects.get_or_create(username="owner")
    image, _ = Image.objects.get_or_create(docker_image="kasm-local/busybox-test:latest", friendly_name="Busybox")
    sessions = Session.objects.bulk_create(
        Session(owner=owner, image=image, agent=agent, status=SessionStatus.RUNNING) for _ in range(count)
    )
    Agent.objects.filter(pk=agent.pk).update(reserved_sessions=count)
    return [session_container(session.hex_id, agent=name) for session in sessions]


def test_a_batch_records_every_agent_and_refuses_only_the_impostor(token, caplog):
    first, second, third = enrolled(token, 3)
    before = dict(Agent.objects.values_list("hostname", "last_checkin_at"))
    batch = [
        Checkin(token, CREDENTIAL, host_report(first, cpu_percent=80.0)),
        Checkin(token, IMPOSTOR, host_report(second, cores=64)),
        Checkin(token, CREDENTIAL, host_report(third, cpu_percent=10.0)),
    ]
    with caplog.at_level(logging.WARNING):
        recorded = agents_checkin(batch)
    assert [agent.hostname for agent in recorded] == [first, third]
    assert "not the credential it enrolled with" in caplog.text
    agents = {agent.hostname: agent for agent in Agent.objects.all()}
    assert agents[first].cpu_percent == 80.0 and agents[third].cpu_percent == 10.0
    assert agents[first].last_checkin_at > before[first]
    assert agents[second].last_checkin_at == before[second] and agents[second].cores == 6
    assert AgentStat.objects.filter(agent=agents[second]).count() == 1  # its enrolment only


def test_what_rarely_changes_is_saved_when_it_does(token):
    [name] = enrolled(token, 1)
    agents_checkin([Checkin(token, CREDENTIAL, host_report(name, cores=12, images=["kasm-local/desktop:latest"]))])
    agent = Agent.objects.get(hostname=name)
    assert (agent.cores, agent.images_present) == (12, ["kasm-local/desktop:latest"])


def test_an_agents_newest_report_in_a_batch_wins(token):
    [name] = enrolled(token, 1)
    agents_checkin([Checkin(token, CREDENTIAL, host_report(name, cpu_percent=p)) for p in (10.0, 20.0, 30.0)])
    assert Agent.objects.get(hostname=name).cpu_percent == 30.0


def test_twenty_agents_cost_the_queries_of_one(token):
    names = enrolled(token, 20)
    containers = {name: with_running_sessions(name, 3) for name in names}

    def queries(batch_names: list[str]) -> int:
        batch = [Checkin(token, CREDENTIAL, host_report(name, containers=containers[name])) for name in batch_names]
        with CaptureQueriesContext(connection) as captured:
            assert len(agents_checkin(batch)) == len(batch_names)
        return len(captured)

    assert queries(names) == queries(names[:1])
    assert Session.objects.filter(status=SessionStatus.RUNNING).count() == 60  # reconciled, all still there


def test_a_vanished_container_is_found_in_a_batch(token):
    first, second = enrolled(token, 2)
    kept = with_running_sessions(first, 1)
    with_running_sessions(second, 1)  # its container is not in the report
    agents_checkin(
        [
            Checkin(token, CREDENTIAL, host_report(first, containers=kept)),
            Checkin(token, CREDENTIAL, host_report(second, containers=[])),
        ]
    )
    statuses = dict(Session.objects.values_list("agent__hostname", "status"))
    assert statuses == {first: SessionStatus.RUNNING, second: SessionStatus.ERROR}


def test_one_console_push_names_every_agent_of_the_batch(token, monkeypatch):
    names = enrolled(token, 5)
    pushes = []
    monkeypatch.setattr(services, "push_after_commit", lambda **push: pushes.append(push))
    agents_checkin([Checkin(token, CREDENTIAL, host_report(name)) for name in names])
    [push] = pushes
    assert push["topic"] == "agent.checkin"
    assert sorted(push["payload"]["agents"]) == sorted(a.hex_id for a in Agent.objects.filter(hostname__in=names))


@pytest.fixture
def queue(settings, monkeypatch):
    """The check-in list in the test Redis, emptied; yields the tasks sent (name, countdown)."""
    if not settings.REDIS_URL:
        pytest.fail("Check-ins queue in Redis: run the tests with REDIS_URL set (make test does).")
    client = checkin_queue._redis()
    client.delete(checkin_queue.QUEUE_KEY, checkin_queue.WINDOW_KEY)
    sent = []
    monkeypatch.setattr(
        checkin_queue.current_app,
        "send_task",
        lambda name, queue, countdown=None: sent.append((name, queue, countdown)),
    )
    yield client, sent
    client.delete(checkin_queue.QUEUE_KEY, checkin_queue.WINDOW_KEY)


def test_queued_checkins_are_drained_in_one_batch_once_its_window_closes(token, queue, caplog):
    client, sent = queue
    first, second = enrolled(token, 2)
    checkin_send(token, CREDENTIAL, host_report(first, cpu_percent=55.0).as_message())
    checkin_send(token, CREDENTIAL, host_report(second, cpu_percent=65.0).as_message())
    client.rpush(checkin_queue.QUEUE_KEY, "0.0 " + json.dumps(["token", CREDENTIAL, {"hostname": 7}]))
    # The first check-in opened the window and queued its drain; the second found it open.
    assert sent == [("agents.checkins_drain", "manager", None)]
    # A drain that starts while the window is open comes back when it closes, and reads nothing yet.
    assert checkins_drain() == 0
    [(_, _, countdown)] = sent[1:]
    assert 0 < countdown <= checkin_queue.WINDOW_MS / 1000
    assert client.llen(checkin_queue.QUEUE_KEY) == 3
    client.delete(checkin_queue.WINDOW_KEY)  # the window closed
    with caplog.at_level(logging.WARNING):
        assert checkins_drain() == 3
    assert "Refused malformed check-in" in caplog.text
    assert dict(Agent.objects.values_list("hostname", "cpu_percent")) == {first: 55.0, second: 65.0}
    assert client.llen(checkin_queue.QUEUE_KEY) == 0 and len(sent) == 2


def test_a_checkin_after_the_window_closed_opens_the_next(token, queue):
    client, sent = queue
    [name] = enrolled(token, 1)
    checkin_send(token, CREDENTIAL, host_report(name).as_message())
    client.delete(checkin_queue.WINDOW_KEY)  # closed, its drain not run yet
    checkin_send(token, CREDENTIAL, host_report(name).as_message())
    assert [task for task, _, _ in sent] == ["agents.checkins_drain"] * 2


def test_a_report_queued_before_a_launch_finished_does_not_end_that_session(token):
    [name] = enrolled(token, 1)
    with_running_sessions(name, 2)
    older, newer = Session.objects.order_by("created_at")
    now = timezone.now()
    Session.objects.filter(pk=older.pk).update(started_at=now - timedelta(minutes=5))
    Session.objects.filter(pk=newer.pk).update(started_at=now - timedelta(seconds=20))
    # Neither container in a report that waited 30 s in the queue: only the older session was
    # running when it was collected, so only that one has lost its container.
    agents_checkin([Checkin(token, CREDENTIAL, host_report(name, containers=[]), waited=30)], now=now)
    assert Session.objects.get(pk=older.pk).status == SessionStatus.ERROR
    assert Session.objects.get(pk=newer.pk).status == SessionStatus.RUNNING
    agents_checkin([Checkin(token, CREDENTIAL, host_report(name, containers=[]))], now=now)  # a fresh one
    assert Session.objects.get(pk=newer.pk).status == SessionStatus.ERROR


def test_the_queue_tells_how_long_a_checkin_waited_by_redis_clock(token, queue, monkeypatch):
    client, _ = queue
    [name] = enrolled(token, 1)
    checkin_send(token, CREDENTIAL, host_report(name).as_message())
    recorded = []
    monkeypatch.setattr(checkin_queue, "agents_checkin", lambda checkins: recorded.extend(checkins))
    client.delete(checkin_queue.WINDOW_KEY)
    seconds, micros = client.time()
    late = json.dumps([token, CREDENTIAL, host_report(name).as_message()])
    client.rpush(checkin_queue.QUEUE_KEY, f"{seconds - 40}.{micros:06d} {late}")  # queued 40 s ago
    assert checkins_drain() == 2
    assert 0 <= recorded[0].waited < 5 and 40 <= recorded[1].waited < 45


def test_a_drain_that_finds_nothing_schedules_nothing(queue):
    _, sent = queue
    assert checkins_drain() == 0
    assert sent == []


def test_the_queue_keeps_only_the_newest_checkins(token, queue, monkeypatch):
    client, _ = queue
    monkeypatch.setattr(checkin_queue, "QUEUE_LIMIT", 3)
    for percent in range(5):
        checkin_send(token, CREDENTIAL, host_report("host-00", cpu_percent=float(percent)).as_message())
    kept = [
        json.loads(raw.split(b" ", 1)[1])[2]["cpu_percent"] for raw in client.lrange(checkin_queue.QUEUE_KEY, 0, -1)
    ]
    assert kept == [2.0, 3.0, 4.0]
