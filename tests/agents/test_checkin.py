import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.agents.choices import AgentStatus
from apps.agents.host_report import host_report_from_message
from apps.agents.models import Agent, AgentStat, AgentStatHour
from apps.agents.services import (
    AgentRefused,
    InvalidManagerToken,
    agent_checkin,
    agent_stats_prune,
    agent_stats_roll_up,
    agents_mark_offline,
    manager_token_rotate,
)
from apps.agents.signals import agents_checked_in, agents_went_offline
from tests.agents.factories import CREDENTIAL, gpu, host_report, session_container

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(settings) -> str:
    settings.AGENT_AUTO_APPROVE = True  # approval has its own tests (test_agent_identity.py)
    return manager_token_rotate(grace=timedelta(minutes=60))


def test_first_checkin_with_the_token_registers_the_agent(token):
    agent = agent_checkin(credential=CREDENTIAL, token=token, report=host_report("gpu-1", gpus=[gpu(0)]))
    assert agent.status == AgentStatus.ONLINE and agent.last_checkin_at is not None
    assert (agent.cores, agent.memory, agent.gpus, agent.docker_version) == (6, 6 * 1024**3, 1, "20.10.24")
    assert agent.images_present == ["kasm-local/busybox-test:latest"]
    assert agent.stats.count() == 1
    assert agent.gpu_devices.get().name == "NVIDIA H100 80GB HBM3"


def test_checkin_with_a_wrong_token_is_refused_logged_and_creates_nothing(token, caplog):
    with caplog.at_level(logging.WARNING), pytest.raises(InvalidManagerToken, match="invalid or expired"):
        agent_checkin(credential=CREDENTIAL, token="not-the-token", report=host_report("intruder"))
    assert not Agent.objects.exists() and not AgentStat.objects.exists()
    assert "Refused check-in from agent 'intruder'" in caplog.text


def test_checkin_with_another_credential_changes_no_existing_agent(token):
    agent_checkin(credential=CREDENTIAL, token=token, report=host_report("agent-1", cores=6))
    impostor = "i" * 40  # holds the manager token, not agent-1's own credential
    with pytest.raises(AgentRefused, match="another credential"):
        agent_checkin(credential=impostor, token=token, report=host_report("agent-1", cores=64, address="10.0.0.66"))
    agent = Agent.objects.get()
    assert (agent.cores, agent.address) == (6, "127.0.0.1") and agent.stats.count() == 1


def test_checkin_updates_gpus_added_changed_and_removed(token):
    agent_checkin(credential=CREDENTIAL, token=token, report=host_report(gpus=[gpu(0), gpu(1)]))
    agent = agent_checkin(credential=CREDENTIAL, token=token, report=host_report(gpus=[gpu(0, temperature_c=80)]))
    assert list(agent.gpu_devices.values_list("index", "temperature_c")) == [(0, 80)]
    assert agent.gpus == 1


def test_checkin_tells_the_apps_above_which_containers_run(token):
    received = []
    agents_checked_in.connect(lambda **kwargs: received.append(kwargs), weak=False, dispatch_uid="test-receiver")
    try:
        agent_checkin(credential=CREDENTIAL, token=token, report=host_report(containers=[session_container("b" * 32)]))
    finally:
        agents_checked_in.disconnect(dispatch_uid="test-receiver")
    [report] = received[0]["reports"]
    agent, containers = report.agent, report.containers
    assert agent.hostname == "agent-1"
    assert containers[0].session_id == "b" * 32


def test_agent_goes_offline_after_missed_checkins_and_back_online(token, settings):
    settings.AGENT_CHECKIN_INTERVAL, settings.AGENT_OFFLINE_AFTER_MISSED_CHECKINS = 30, 3
    start = timezone.now()
    agent_checkin(credential=CREDENTIAL, token=token, report=host_report(), now=start)
    offline = []
    agents_went_offline.connect(
        lambda agents, **_: offline.extend(a.hostname for a in agents), weak=False, dispatch_uid="t"
    )
    try:
        assert agents_mark_offline(now=start + timedelta(seconds=89)) == []
        assert [a.hostname for a in agents_mark_offline(now=start + timedelta(seconds=91))] == ["agent-1"]
        assert agents_mark_offline(now=start + timedelta(seconds=200)) == []
    finally:
        agents_went_offline.disconnect(dispatch_uid="t")
    assert offline == ["agent-1"] and Agent.objects.get().status == AgentStatus.OFFLINE
    agent_checkin(credential=CREDENTIAL, token=token, report=host_report(), now=start + timedelta(seconds=300))
    assert Agent.objects.get().status == AgentStatus.ONLINE


def test_disk_used_is_recorded_as_df_reports_it_not_total_minus_free(token):
    agent_checkin(credential=CREDENTIAL, token=token, report=host_report(disk_total=200, disk_free=100, disk_used=24))
    assert AgentStat.objects.get().disk_used == 24  # a filesystem's reserved blocks are not "used"


def test_check_ins_become_hourly_averages_after_a_day_and_those_go_after_the_retention(token, settings):
    settings.AGENT_STATS_RETENTION_DAYS = 7
    now = timezone.now()
    for days_ago in (10, 8, 6, 0):
        agent_checkin(credential=CREDENTIAL, token=token, report=host_report(), now=now - timedelta(days=days_ago))
    assert agent_stats_prune(now=now) == (3, 2)  # three check-ins averaged, then two hours too old
    assert list(AgentStat.objects.values_list("recorded_at", flat=True)) == [now]
    [kept] = AgentStatHour.objects.all()
    assert kept.hour <= now - timedelta(days=6) < kept.hour + timedelta(hours=1)
    assert agent_stats_prune(now=now) == (0, 0)


def test_an_hour_of_check_ins_is_averaged_once_it_is_over(token):
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    for minute, cpu in ((5, 10.0), (25, 20.0), (55, 60.0)):
        report = host_report(cpu_percent=cpu, memory_used=minute)
        agent_checkin(credential=CREDENTIAL, token=token, report=report, now=hour + timedelta(minutes=minute))
    assert agent_stats_roll_up(now=hour + timedelta(minutes=59)) == 0  # not over yet
    assert agent_stats_roll_up(now=hour + timedelta(hours=2)) == 1
    averaged = AgentStatHour.objects.get()
    assert (averaged.hour, averaged.samples, averaged.cpu_percent, averaged.memory_used) == (hour, 3, 30.0, 28)
    assert agent_stats_roll_up(now=hour + timedelta(hours=2)) == 0  # each hour once


def test_rotated_token_keeps_the_old_one_for_the_grace_window_only(token):
    new_token = manager_token_rotate(grace=timedelta(minutes=10))
    now = timezone.now()
    agent_checkin(credential=CREDENTIAL, token=token, report=host_report("old-config"), now=now + timedelta(minutes=9))
    agent_checkin(
        credential=CREDENTIAL, token=new_token, report=host_report("new-config"), now=now + timedelta(minutes=11)
    )
    with pytest.raises(InvalidManagerToken):
        agent_checkin(credential=CREDENTIAL, token=token, report=host_report("late"), now=now + timedelta(minutes=11))
    assert not Agent.objects.filter(hostname="late").exists()
    # The manager token only enrols: an enrolled agent keeps checking in with its own credential.
    later = now + timedelta(minutes=12)
    agent_checkin(credential=CREDENTIAL, token=token, report=host_report("old-config"), now=later)
    assert Agent.objects.get(hostname="old-config").last_checkin_at == later


def test_a_second_rotation_never_extends_an_older_tokens_grace(token):
    second = manager_token_rotate(grace=timedelta(minutes=10))
    manager_token_rotate(grace=timedelta(days=1))
    later = timezone.now() + timedelta(minutes=11)
    with pytest.raises(InvalidManagerToken):
        agent_checkin(credential=CREDENTIAL, token=token, report=host_report(), now=later)
    assert agent_checkin(credential=CREDENTIAL, token=second, report=host_report(), now=later)


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ([], "must be a JSON object"),
        ({}, "'hostname' is missing"),
        ({**host_report().as_message(), "cores": "6"}, "'cores' is missing or not a int"),
        ({**host_report().as_message(), "cores": True}, "'cores'"),
        ({**host_report().as_message(), "gpus": {}}, "'gpus' must be a list"),
        ({**host_report().as_message(), "gpus": [{"index": 0}]}, "GpuReport needs exactly the fields"),
    ],
)
def test_malformed_checkin_messages_are_refused_with_the_reason(message, error):
    with pytest.raises(ValueError, match=error):
        host_report_from_message(message)


def test_a_report_survives_the_trip_as_a_message():
    report = host_report(gpus=[gpu(0)], containers=[session_container()])
    assert host_report_from_message(report.as_message()) == report


def test_containers_of_another_installation_or_agent_are_not_reconciled(token):
    received = []
    agents_checked_in.connect(lambda **kwargs: received.append(kwargs), weak=False, dispatch_uid="test-receiver")
    containers = [
        session_container("a" * 32),
        session_container("b" * 32, installation="f" * 32),
        session_container("c" * 32, agent="agent-2"),
        session_container("d" * 32, installation=""),  # started before installation ids: still ours
    ]
    try:
        agent = agent_checkin(credential=CREDENTIAL, token=token, report=host_report(containers=containers))
    finally:
        agents_checked_in.disconnect(dispatch_uid="test-receiver")
    [report] = received[0]["reports"]
    assert [c.session_id for c in report.containers] == ["a" * 32, "d" * 32]
    assert agent.session_containers == ["a" * 32, "d" * 32]
