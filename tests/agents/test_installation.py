"""One installation never touches another's containers, even on a shared Docker engine."""

import uuid
from datetime import timedelta

import docker
import pytest
from django.core.cache import cache

from apps.agents.host_report import host_report_collect
from apps.agents.labels import AGENT_LABEL, INSTALLATION_LABEL, MANAGED_LABEL, SESSION_LABEL
from apps.agents.services import agent_checkin, manager_token_rotate
from apps.common.installation import installation_id
from apps.common.models import Installation
from tests.agents.factories import CREDENTIAL
from tests.sessions.conftest import BUSYBOX

pytestmark = pytest.mark.django_db


def test_the_installation_id_is_made_once_kept_and_shown_to_admins(console):
    first = installation_id()
    assert len(first) == 32 and installation_id() == first and Installation.objects.count() == 1
    assert f"<code>{first}</code>" in console.get("/console/agents/").content.decode()


def test_a_check_in_reconciles_only_this_installations_containers_on_this_agent(
    docker_url, built_images, settings, django_capture_on_commit_callbacks
):
    settings.SESSION_ORPHAN_GRACE_SECONDS = 0
    settings.AGENT_AUTO_APPROVE = True
    engine = docker.DockerClient(base_url=docker_url)
    name = f"install-test-{uuid.uuid4().hex[:8]}"
    owners = {
        "ours": (installation_id(), name),
        "theirs": (uuid.uuid4().hex, name),
        "other agent": (installation_id(), "x"),
    }
    containers = {
        owner: engine.containers.create(
            BUSYBOX.tag,
            labels={
                MANAGED_LABEL: "true",
                SESSION_LABEL: uuid.uuid4().hex,
                INSTALLATION_LABEL: install,
                AGENT_LABEL: agent,
            },
        )
        for owner, (install, agent) in owners.items()
    }
    try:
        report = host_report_collect(hostname=name, address="127.0.0.1", docker_url=docker_url, checkin_interval=30)
        for container in containers.values():
            cache.delete(f"sessions:orphan-seen:{container.id}")
        with django_capture_on_commit_callbacks() as callbacks:
            agent = agent_checkin(
                credential=CREDENTIAL, token=manager_token_rotate(grace=timedelta(minutes=1)), report=report
            )
        assert agent.session_containers == [containers["ours"].labels[SESSION_LABEL]]
        assert len(callbacks) == 2  # the orphan's removal (to the agent's queue) and the console push
    finally:
        for container in containers.values():
            container.remove(force=True)
