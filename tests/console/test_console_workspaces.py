"""The console's home and workspaces pages (admins only): create by hand, edit, clone, enable,
delete or archive, icons checked, security flags shown."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.accounts.models import AuditEvent
from apps.accounts.services import api_key_create
from apps.common.installation import installation_id
from apps.common.units import GIB, MIB
from apps.images.models import Image
from apps.images.selectors import image_list_launchable
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.services import session_launch_spec
from tests.agents.factories import agent
from tests.personas import ALICE, PASSWORDS
from tests.sessions.stub_sessions import stub_session

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
FORM = {
    "friendly_name": "Firefox",
    "docker_image": "kasmweb/firefox:1.16.0",
    "description": "A browser",
    "categories": "Browser, Internet",
    "cores": "1.5",
    "memory": "1536",
    "gpus": "0",
    "cpu_allocation_method": "quotas",
    "stream_protocol": "novnc",
    "run_config": "{}",
    "exec_config": "{}",
    "enabled": "on",
}


@pytest.mark.parametrize("path", ["/console/", "/console/workspaces/", "/console/workspaces/new/"])
def test_the_home_and_workspace_pages_refuse_plain_users(client, alice, path):
    assert client.get(path).status_code == 302
    client.force_login(alice)
    assert client.get(path).status_code == 403
    assert client.post(path, FORM).status_code == 403
    assert not Image.objects.exists()


def test_workspace_actions_refuse_plain_users(client, alice):
    image = Image.objects.create(docker_image="d", friendly_name="Desktop")
    client.force_login(alice)
    for action in ("clone/", "enabled/", "delete/"):
        assert client.post(f"/console/workspaces/{image.hex_id}/{action}").status_code == 403
    assert Image.objects.count() == 1 and Image.objects.get().enabled


def test_an_admin_lands_on_the_console_home_and_a_user_on_their_workspaces(client, alice, admin_user_with_console):
    response = client.post("/accounts/login/", {"username": "bob", "password": "bob-password-1"})
    assert response.url == "/console/"
    client.logout()
    assert client.post("/accounts/login/", {"username": ALICE, "password": PASSWORDS[ALICE]}).url == "/"


def test_the_home_counts_agents_capacity_sessions_and_failures(console, alice):
    agent(hostname="a1", cores=8, memory=16 * GIB)
    agent(hostname="a2", status="offline")
    agent(hostname="a3", status="pending", approved=False)
    stub_session(alice, port=40001)
    failed, _ = stub_session(alice, status=SessionStatus.ERROR)
    Session.objects.filter(pk=failed.pk).update(status_message="the workspace did not answer in 120 s")
    page = console.get("/console/").content.decode()
    assert re.search(r"<strong>2</strong> agents online", page)  # a1 and the stub sessions' host
    assert "1 offline, 1 waiting for approval" in page
    assert re.search(r'id="live-sessions">1<', page) and re.search(r'id="failed-launches">1<', page)
    assert "the workspace did not answer in 120 s" in page


def test_the_home_sums_the_online_agents_capacity_with_overrides_applied(console):
    agent(hostname="a1", cores=8, cores_override=12, memory=16 * GIB, reserved_cores=3, reserved_memory=2 * GIB)
    agent(hostname="a2", cores=8, memory=16 * GIB)
    agent(hostname="gone", cores=100, memory=100 * GIB, status="offline")
    page = console.get("/console/").content.decode()
    assert "<strong>3 / 20</strong> cores allocated" in page
    assert "2.0\xa0GB of 32.0\xa0GB memory" in page  # filesizeformat's no-break spaces


def test_an_admin_creates_a_workspace_by_hand_with_an_icon(console):
    response = console.post("/console/workspaces/new/", {**FORM, "icon_upload": SimpleUploadedFile("i.png", PNG)})
    image = Image.objects.get()
    assert response.url == f"/console/workspaces/{image.hex_id}/"
    assert (image.cores, image.memory, image.categories) == (1.5, 1536 * MIB, ["Browser", "Internet"])
    assert image.icon.name.endswith(f"{image.hex_id}.png")
    assert image in image_list_launchable()
    assert AuditEvent.objects.get().action == "console.workspace.create"


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"icon_upload": SimpleUploadedFile("x.svg", b"<svg onload=alert(1)>")}, "is a PNG, JPEG, GIF or WebP"),
        ({"memory": "10"}, "greater than or equal to 64"),
        ({"run_config": "[1, 2]"}, "is a JSON object"),
        ({"cpu_allocation_method": "turbo"}, "Select a valid choice"),
        ({"desktop_resolution": "big"}, "Write the size as WIDTHxHEIGHT"),
        ({"desktop_resolution": "\uff11\uff19\uff12\uff10x1080"}, "Write the size as WIDTHxHEIGHT"),
        ({"desktop_resolution": "100000x100"}, "Ensure this value has at most 9 characters"),
        ({"desktop_resolution": "320x200"}, "from 640x480 to 7680x4320"),
    ],
)
def test_bad_workspace_input_is_refused_and_nothing_is_saved(console, changes, message):
    page = console.post("/console/workspaces/new/", {**FORM, **changes}).content.decode()
    assert message in page
    assert not Image.objects.exists()


def test_a_fixed_desktop_size_starts_the_desktop_at_it_and_the_page_keeps_it(console, alice):
    console.post("/console/workspaces/new/", {**FORM, "desktop_resolution": "1920x1080"})
    image = Image.objects.get()
    session, _token = stub_session(alice, image=image)
    session.environment = {"VNC_RESIZE": "on", "VNC_RESOLUTION": "640x480"}  # the user's own: the workspace wins
    environment = session_launch_spec(session)["environment"]
    assert (environment["VNC_RESOLUTION"], environment["VNC_RESIZE"]) == ("1920x1080", "off")
    assert 'data-follows-tab="false"' in session_page(alice, session)

    image.desktop_resolution = ""
    image.save()
    environment = session_launch_spec(session)["environment"]
    assert (environment["VNC_RESOLUTION"], environment["VNC_RESIZE"]) == ("640x480", "on")
    assert 'data-follows-tab="true"' in session_page(alice, session)


def session_page(user, session) -> str:
    client = Client()
    client.force_login(user)
    return client.get(f"/session/{session.hex_id}/").content.decode()


def test_editing_shows_the_security_flags_as_the_store_does(console):
    image = Image.objects.create(docker_image="d", friendly_name="Desktop", run_config={"privileged": True})
    page = console.get(f"/console/workspaces/{image.hex_id}/").content.decode()
    assert 'id="workspace-flags"' in page and "<code>privileged</code>" in page
    form = {**FORM, "friendly_name": "Desktop", "memory": "2048", "run_config": '{"shm_size": "1g"}'}
    console.post(f"/console/workspaces/{image.hex_id}/", form)
    image.refresh_from_db()
    assert image.memory == 2 * GIB and image.run_config == {"shm_size": "1g"}
    assert 'id="workspace-flags"' not in console.get(f"/console/workspaces/{image.hex_id}/").content.decode()


def test_clone_and_disable(console):
    image = Image.objects.create(docker_image="d", friendly_name="Desktop", cores=2)
    console.post(f"/console/workspaces/{image.hex_id}/clone/")
    copy = Image.objects.get(friendly_name="Desktop (copy)")
    assert copy.cores == 2 and not copy.enabled and copy.pk != image.pk
    console.post(f"/console/workspaces/{image.hex_id}/enabled/", {})
    image.refresh_from_db()
    assert not image.enabled and image not in image_list_launchable()


def test_a_workspace_with_history_is_archived_and_its_live_sessions_destroyed(console, alice):
    image = Image.objects.create(docker_image="d", friendly_name="Desktop")
    live, _ = stub_session(alice, port=40001, image=image)
    confirmation = console.get(f"/console/workspaces/{image.hex_id}/delete/").content.decode()
    assert 'id="sessions-to-destroy"' in confirmation and alice.username in confirmation
    console.post(f"/console/workspaces/{image.hex_id}/delete/")
    image.refresh_from_db()
    live.refresh_from_db()
    assert image.archived and not image.enabled and live.status == SessionStatus.DELETING
    listing = console.get("/console/workspaces/").content.decode()
    assert "Desktop" not in listing[listing.index('id="workspaces"') :]
    client_page = console.get("/").content.decode()
    assert "Launch Desktop" not in client_page
    assert console.get(f"/console/workspaces/{image.hex_id}/").status_code == 404
    assert AuditEvent.objects.filter(action="console.workspace.archive").exists()


def test_a_workspace_never_launched_is_deleted(console):
    image = Image.objects.create(docker_image="d", friendly_name="Desktop")
    console.post(f"/console/workspaces/{image.hex_id}/delete/")
    assert not Image.objects.exists()


def test_the_api_lists_no_archived_workspace(client, console):
    Image.objects.create(docker_image="d", friendly_name="Old", archived=True, enabled=False)
    issued = api_key_create(name="k")
    body = {"api_key": issued.api_key.key, "api_key_secret": issued.secret}
    assert client.post("/api/public/get_images", body, content_type="application/json").json()["images"] == []


def test_the_system_page_says_what_runs_where_without_secrets(client, alice, console, settings):
    settings.CELERY_BROKER_URL = "redis://:s3cret-pass@redis.internal:6379/0"
    agent(hostname="gpu-1", docker_version="24.0.7", architecture="x86_64")
    page = console.get("/console/system/").content.decode()
    assert settings.VERSION in page and "gpu-1" in page and "24.0.7" in page
    assert "redis://:***@redis.internal:6379/0" in page and "s3cret-pass" not in page
    assert installation_id() in page
    client.logout()
    client.force_login(alice)
    assert client.get("/console/system/").status_code == 403
