"""Agents are who they say they are: each has its own credential, bound to its name when it
enrols with the manager token; a new agent waits for an admin's approval; its address changes
only by an admin; a session report counts only from the agent the session was placed on."""

from datetime import timedelta

import pytest
from django.urls import reverse

from apps.agents.choices import AgentStatus
from apps.agents.identity import agent_credential_load_or_create
from apps.agents.models import Agent
from apps.agents.services import agent_checkin, manager_token_rotate
from apps.common.errors import ApplicationError
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.scheduler import NoCapacity, session_place
from apps.sessions.services import session_request
from apps.sessions.tasks import session_assigned_task, session_launch_failed_task, session_launched_task
from tests.agents.factories import CREDENTIAL, host_report

pytestmark = pytest.mark.django_db
OTHER_CREDENTIAL = "o" * 43


@pytest.fixture
def token() -> str:
    return manager_token_rotate(grace=timedelta(minutes=60))


@pytest.fixture
def image():
    return Image.objects.create(docker_image="kasm-local/busybox-test:latest", friendly_name="Busybox", memory=2**30)


def test_a_new_agent_waits_for_approval_and_gets_no_session_until_then(token, image, console):
    agent = agent_checkin(token=token, credential=CREDENTIAL, report=host_report("new-host", address="192.0.2.5"))
    assert (agent.status, agent.approved, agent.address) == (AgentStatus.PENDING, False, "192.0.2.5")
    with pytest.raises(NoCapacity):
        session_place(image)
    page = console.get(reverse("agents:detail", kwargs={"agent_id": agent.pk})).content.decode()
    assert "waits for approval" in page and 'id="agent-approve"' in page
    console.post(reverse("agents:approve", kwargs={"agent_id": agent.pk}), {"address": "192.0.2.6"})
    agent = agent_checkin(token="", credential=CREDENTIAL, report=host_report("new-host", address="192.0.2.5"))
    assert (agent.status, agent.approved, agent.address) == (AgentStatus.ONLINE, True, "192.0.2.6")
    assert session_place(image).pk == agent.pk


def test_plain_users_cannot_approve_agents(client, alice, token):
    agent = agent_checkin(token=token, credential=CREDENTIAL, report=host_report("new-host"))
    client.force_login(alice)
    assert client.post(reverse("agents:approve", kwargs={"agent_id": agent.pk})).status_code == 403
    assert not Agent.objects.get(pk=agent.pk).approved


def test_the_manager_token_alone_cannot_speak_for_an_enrolled_agent(token, settings):
    settings.AGENT_AUTO_APPROVE = True
    agent_checkin(token=token, credential=CREDENTIAL, report=host_report("gpu-1", cores=8))
    forged = host_report("gpu-1", cores=512, memory_total=2**50, address="203.0.113.9")
    with pytest.raises(ApplicationError, match="another credential"):
        agent_checkin(token=token, credential=OTHER_CREDENTIAL, report=forged)
    agent = Agent.objects.get()
    assert (agent.cores, agent.address, agent.stats.count()) == (8, "127.0.0.1", 1)


def test_an_agent_cannot_move_its_own_address(token, settings, console):
    settings.AGENT_AUTO_APPROVE = True
    agent_checkin(token=token, credential=CREDENTIAL, report=host_report("gpu-1"))
    agent = agent_checkin(token="", credential=CREDENTIAL, report=host_report("gpu-1", address="203.0.113.9"))
    assert (agent.address, agent.reported_address) == ("127.0.0.1", "203.0.113.9")
    page = console.get(reverse("agents:detail", kwargs={"agent_id": agent.pk})).content.decode()
    assert "reports the address 203.0.113.9" in page
    form = {"enabled": "on", "address": "203.0.113.9", "cores_override": 0, "memory_override": 0}
    form |= {"gpus_override": 0, "prune_mode": "off"}
    assert console.post(reverse("agents:detail", kwargs={"agent_id": agent.pk}), form).status_code == 302
    assert Agent.objects.get().address == "203.0.113.9"


def test_a_session_report_counts_only_from_the_agent_it_was_placed_on(token, settings, alice, image):
    settings.AGENT_AUTO_APPROVE = True
    placed = agent_checkin(token=token, credential=CREDENTIAL, report=host_report("host-a", cores=8))
    # host-b lacks the image, so host-a comes first (equal agents are tried from a random one)
    agent_checkin(token=token, credential=OTHER_CREDENTIAL, report=host_report("host-b", cores=1, images=[]))
    session = session_request(user=alice, image=image).session
    assert session.agent == placed
    for identity in ({"agent": "host-b", "credential": OTHER_CREDENTIAL}, {"agent": "host-a", "credential": "x" * 43}):
        session_launch_failed_task(identity, session.hex_id, "reported away by someone else")
        session_launched_task(identity, session.hex_id, "evil", 1)
        session.refresh_from_db()
        assert session.status == SessionStatus.PROVISIONING and session.container_id == ""
    session_launched_task({"agent": "host-a", "credential": CREDENTIAL}, session.hex_id, "c" * 64, 40001)
    session.refresh_from_db()
    assert (session.status, session.host_port) == (SessionStatus.RUNNING, 40001)


def test_a_new_vnc_secret_is_taken_only_from_the_agent_the_session_runs_on(token, settings, alice, image):
    settings.AGENT_AUTO_APPROVE = True
    agent_checkin(token=token, credential=CREDENTIAL, report=host_report("host-a", cores=8))
    session = session_request(user=alice, image=image).session
    Session.objects.filter(pk=session.pk).update(vnc_password_next="claimed-secret")
    session_assigned_task({"agent": "host-a", "credential": "x" * 43}, session.hex_id, True)
    assert Session.objects.get(pk=session.pk).vnc_password == session.vnc_password
    session_assigned_task({"agent": "host-a", "credential": CREDENTIAL}, session.hex_id, True)
    assert Session.objects.get(pk=session.pk).vnc_password == "claimed-secret"


def test_an_agent_makes_its_credential_once_readable_by_its_user_only(tmp_path):
    path = tmp_path / "agent-credentials" / "host-a"
    credential = agent_credential_load_or_create(path)
    assert len(credential) >= 40 and path.stat().st_mode & 0o777 == 0o600
    assert agent_credential_load_or_create(path) == credential


def test_a_refused_settings_form_changes_no_address(token, settings, console):
    settings.AGENT_AUTO_APPROVE = True
    agent = agent_checkin(token=token, credential=CREDENTIAL, report=host_report("no-gpu"))
    form = {"enabled": "on", "address": "203.0.113.9", "cores_override": 0, "memory_override": 0}
    form |= {"gpus_override": 2, "prune_mode": "off"}  # refused: the agent has no GPU
    response = console.post(reverse("agents:detail", kwargs={"agent_id": agent.pk}), form)
    assert response.status_code == 200 and "has no physical GPU" in response.content.decode()
    assert Agent.objects.get().address == "127.0.0.1"
