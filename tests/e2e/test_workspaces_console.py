"""Workspaces and zones in a real browser: an admin makes a zone, puts the agent in it and adds a
workspace by hand there with a 1.5 GB memory limit and a Docker network; a user launches it and the
container has that limit and network; the admin archives it and it leaves the user's tiles while
its session stays on record."""

import docker
import pytest

from apps.agents.labels import SESSION_LABEL
from apps.agents.local_images import RECIPES
from apps.agents.models import Agent
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from tests.e2e.conftest import log_in
from tests.personas import ALICE, PASSWORDS
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
NETWORK = "kasm-e2e-lab"


def test_admin_adds_a_workspace_in_a_zone_a_user_launches_it_then_it_is_archived(
    browser, page, platform, admin_user_with_console, alice, docker_url, tmp_path
):
    client = docker.DockerClient(base_url=docker_url)
    for stale in client.networks.list(names=[NETWORK]):
        stale.remove()
    network = client.networks.create(NETWORK, driver="bridge")
    try:
        run_the_trip(browser, page, platform, client, tmp_path)
    finally:
        for container in client.containers.list(all=True, filters={"network": NETWORK}):
            container.remove(force=True)
        network.remove()


def run_the_trip(browser, page, platform, client, tmp_path):
    wait_for(lambda: NETWORK in Agent.objects.get(hostname="local").networks, timeout=30, what="the agent reports it")
    log_in(page, platform, "bob", "bob-password-1")
    assert page.url == f"{platform}/console/"
    page.goto(f"{platform}/console/zones/")
    page.fill("#zone-create input[name=name]", "Lab")
    page.click("#zone-create button[type=submit]")
    page.wait_for_selector("text=Saved the zone Lab")
    page.screenshot(path=str(tmp_path / "zones.png"), full_page=True)

    local = Agent.objects.get(hostname="local")
    page.goto(f"{platform}/console/agents/{local.hex_id}/")
    page.click("button[data-tab=settings]")
    page.select_option("#tab-settings select[name=zone]", label="Lab")
    page.click("#tab-settings button[type=submit]")
    page.wait_for_selector("text=Saved the settings of local")

    page.goto(f"{platform}/console/workspaces/new/")
    page.fill("input[name=friendly_name]", "Lab shell")
    page.fill("input[name=docker_image]", RECIPES[0].tag)
    page.fill("input[name=cores]", "0.5")
    page.fill("input[name=memory]", "1536")  # 1.5 GB, in MB
    page.select_option("select[name=cpu_allocation_method]", "quotas")
    page.select_option("select[name=restrict_to_zone]", label="Lab")
    page.fill("input[name=network]", NETWORK)
    page.screenshot(path=str(tmp_path / "workspace-new.png"), full_page=True)
    page.click("#workspace-form button[type=submit]")
    page.wait_for_selector("text=Saved the workspace Lab shell")
    page.goto(f"{platform}/console/workspaces/")
    page.screenshot(path=str(tmp_path / "workspaces.png"), full_page=True)
    workspace = Image.objects.get(friendly_name="Lab shell")

    user_context = browser.new_context()
    user = user_context.new_page()
    log_in(user, platform, ALICE, PASSWORDS[ALICE])
    user.click("button[aria-label='Launch Lab shell']")
    user.wait_for_url("**/session/*/")
    wait_for(lambda: Session.objects.filter(status=SessionStatus.RUNNING).exists(), timeout=60, what="running")
    session = Session.objects.get()
    (container,) = client.containers.list(filters={"label": f"{SESSION_LABEL}={session.hex_id}"})
    assert container.attrs["HostConfig"]["Memory"] == 1536 * 1024**2
    assert list(container.attrs["NetworkSettings"]["Networks"]) == [NETWORK]
    assert session.agent.zone.name == "Lab"

    page.goto(f"{platform}/console/")
    page.screenshot(path=str(tmp_path / "console-home.png"), full_page=True)
    page.goto(f"{platform}/console/workspaces/{workspace.hex_id}/delete/")
    assert "Sessions of it are on record" in page.inner_text("main")
    assert ALICE in page.inner_text("#sessions-to-destroy")
    page.click("main form button.danger")
    page.wait_for_selector("text=is archived")
    user.goto(f"{platform}/")
    assert user.locator("button[aria-label='Launch Lab shell']").count() == 0
    wait_for(lambda: Session.objects.get().status == SessionStatus.DELETED, timeout=60, what="its session deleted")
    workspace.refresh_from_db()
    assert workspace.archived and Session.objects.get().image == workspace  # the history keeps it
    user_context.close()
