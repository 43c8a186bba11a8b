"""Real agent workers on two separate Docker engines, checking in through Redis to a manager worker."""

import time
import uuid
from datetime import timedelta

import docker
import pytest
from django.utils import timezone

from apps.agents.choices import AgentImageStatus, AgentStatus
from apps.agents.labels import AGENT_LABEL, INSTALLATION_LABEL, SESSION_LABEL
from apps.agents.local_images import RECIPES, local_image_build
from apps.agents.models import Agent, AgentImage, AgentStat
from apps.agents.services import (
    agents_checkin_interval_changed,
    agents_mark_offline,
    manager_token_rotate,
    manager_token_write,
)
from apps.agents.tasks import agents_dispatch_image_sync_task
from apps.common.hashing import hash_secret
from apps.common.installation import installation_id
from apps.common.runtime_settings import runtime_settings_save
from apps.images.models import Image
from tests.workers import Workers, wait_for, worker_env

BUSYBOX, DESKTOP = RECIPES
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def token() -> str:
    return manager_token_rotate(grace=timedelta(minutes=5))


@pytest.fixture
def workers(live_database_url, redis_url):
    """A manager worker on the test database; agents check in every second with the token."""
    pool = Workers(worker_env(live_database_url, redis_url, AGENT_CHECKIN_INTERVAL="1"))
    pool.start_manager(node="manager-test", concurrency=1)
    yield pool
    pool.stop_all()


@pytest.fixture
def session_containers(docker_url, second_docker_url, built_images):
    """One session container of this installation on each engine: host-a's and host-b's."""
    local_image_build(BUSYBOX, docker_url=second_docker_url)
    started = []
    for url, agent in ((docker_url, "host-a"), (second_docker_url, "host-b")):
        client = docker.DockerClient(base_url=url)
        session_id = uuid.uuid4().hex
        labels = {SESSION_LABEL: session_id, INSTALLATION_LABEL: installation_id(), AGENT_LABEL: agent}
        started.append((client.containers.run(BUSYBOX.tag, detach=True, labels=labels), session_id))
    yield [session_id for _, session_id in started]
    for container, _ in started:
        container.remove(force=True)


def agent_named(name: str):
    return Agent.objects.filter(hostname=name).first()


def test_two_agents_on_two_engines_report_their_own_containers_and_images(
    workers, token, docker_url, second_docker_url, session_containers
):
    workers.start_agent("host-a", docker_url, token)
    workers.start_agent("host-b", second_docker_url, token)
    host_a = wait_for(lambda: agent_named("host-a"), what="host-a to register")
    host_b = wait_for(lambda: agent_named("host-b"), what="host-b to register")
    assert host_a.status == host_b.status == AgentStatus.ONLINE
    # The first engine is shared with the rest of the suite; the second holds only this test's container.
    assert session_containers[0] in host_a.session_containers
    assert session_containers[1] not in host_a.session_containers
    assert host_b.session_containers == [session_containers[1]]
    assert DESKTOP.tag in host_a.images_present and DESKTOP.tag not in host_b.images_present
    assert BUSYBOX.tag in host_b.images_present


def test_a_silent_agent_goes_offline_and_comes_back(workers, token, settings, second_docker_url):
    settings.AGENT_CHECKIN_INTERVAL, settings.AGENT_OFFLINE_AFTER_MISSED_CHECKINS = 1, 3
    workers.start_agent("host-b", second_docker_url, token)
    wait_for(lambda: agent_named("host-b"), what="host-b to register")
    workers.stop("host-b")
    time.sleep(3.5)
    assert [agent.hostname for agent in agents_mark_offline()] == ["host-b"]
    workers.start_agent("host-b", second_docker_url, token)
    wait_for(lambda: agent_named("host-b").status == AgentStatus.ONLINE, what="host-b back online")


def test_an_agent_with_a_wrong_token_never_registers(workers, docker_url):
    workers.start_agent("intruder", docker_url, "wrong-token")
    time.sleep(5)
    assert not Agent.objects.filter(hostname="intruder").exists()


def test_agents_pull_the_defined_images_and_report_each_result(
    workers, token, docker_url, second_docker_url, built_images
):
    local_image_build(BUSYBOX, docker_url=second_docker_url)
    Image.objects.create(docker_image=BUSYBOX.tag, friendly_name="busybox")
    Image.objects.create(docker_image="kasm-local/never-built:1", friendly_name="missing everywhere")
    workers.start_agent("host-a", docker_url, token)
    workers.start_agent("host-b", second_docker_url, token)
    wait_for(lambda: Agent.objects.filter(status=AgentStatus.ONLINE).count() == 2, what="both agents online")
    agents_dispatch_image_sync_task()
    wait_for(lambda: AgentImage.objects.filter(checked_at__isnull=False).count() == 2, what="image reports")
    failed = AgentImage.objects.filter(status=AgentImageStatus.FAILED)
    assert sorted(failed.values_list("agent__hostname", "reference")) == [
        ("host-a", "kasm-local/never-built:1"),
        ("host-b", "kasm-local/never-built:1"),
    ]
    assert all("never-built" in state.error for state in failed)
    wait_for(
        lambda: AgentImage.objects.filter(reference=BUSYBOX.tag, status=AgentImageStatus.PRESENT).count() == 2,
        what="busybox marked present from the check-ins",
    )


def test_a_running_agent_takes_a_new_checkin_interval_and_a_token_rotated_in_the_console(
    workers, token, second_docker_url, tmp_path, settings, client, admin_user_with_console
):
    """As under `make up`: the agent reads its token file at each check-in, the console's rotation
    writes that file, and a changed check-in interval reaches the running worker."""
    token_file = tmp_path / "manager_token"
    manager_token_write(token_file, token)
    workers.start_agent("host-b", second_docker_url, token_file=token_file)
    host = wait_for(lambda: agent_named("host-b"), what="host-b to register")
    assert host.manager_token.token_hash == hash_secret(token)

    def checkins_within(seconds: float) -> int:
        since = timezone.now()
        time.sleep(seconds)
        return AgentStat.objects.filter(agent=host, recorded_at__gt=since).count()

    assert checkins_within(4) >= 3  # started at the workers' 1 s
    runtime_settings_save({"AGENT_CHECKIN_INTERVAL": 5})
    agents_checkin_interval_changed(5)
    time.sleep(2)  # the message reaches the worker, and a check-in already on its way lands
    assert checkins_within(10.5) <= 3

    settings.MANAGER_TOKEN_FILE = str(token_file)
    client.force_login(admin_user_with_console)
    client.post("/console/manager-token/rotate/")
    new_token = token_file.read_text()
    assert new_token != token
    wait_for(
        lambda: Agent.objects.filter(pk=host.pk, manager_token__token_hash=hash_secret(new_token)).exists(),
        timeout=15,
        what="the agent to present the rotated token",
    )
