"""A workspace installed from a registry is fetched by the agent and launches as a session."""

import docker
import pytest

from apps.agents.choices import AgentImageStatus
from apps.agents.local_images import RECIPES
from apps.agents.models import Agent, AgentImage
from apps.registry.services import registry_add, registry_workspace_install
from apps.sessions.choices import SessionStatus
from apps.sessions.services import session_request
from tests.registry.sites import serving, workspace_entry, write_registry
from tests.sessions.test_session_lifecycle import wait_for_status
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
DEMO_TAG = "kasm-local/registry-demo:latest"


@pytest.fixture
def demo_image_on_engine(docker_url, built_images):
    """The busybox workspace under a name no Image uses yet: 'pulling' it finds it present locally."""
    client = docker.DockerClient(base_url=docker_url)
    client.images.get(RECIPES[0].tag).tag(DEMO_TAG)
    yield DEMO_TAG
    client.images.remove(DEMO_TAG, noprune=True)


def test_installed_workspace_is_reported_present_by_the_agent_and_launches(
    platform, alice, tmp_path, demo_image_on_engine
):
    entry = workspace_entry(demo_image_on_engine, friendly_name="Registry demo", cores=0.5, memory=128)
    write_registry(tmp_path, [{**entry, "stream_protocol": "novnc"}])
    with serving(tmp_path) as url:
        workspace = registry_add(url=url).workspaces.get()
    image = registry_workspace_install(reviewed_digest=None, workspace=workspace)

    def reported_present():
        agent = Agent.objects.get(hostname="local")
        states = AgentImage.objects.filter(agent=agent, reference=DEMO_TAG, status=AgentImageStatus.PRESENT)
        return DEMO_TAG in agent.images_present and states.exists() and agent.image_sizes.get(DEMO_TAG, 0) > 0

    wait_for(reported_present, timeout=60, what="the agent reporting the installed image")
    session = wait_for_status(session_request(user=alice, image=image).session, SessionStatus.RUNNING)
    assert session.image == image
