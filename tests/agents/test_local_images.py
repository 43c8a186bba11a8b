"""The local workspace images build from their recipes and answer on 6901 like real workspaces."""

import contextlib
import shutil
import uuid
from dataclasses import replace
from io import StringIO

import docker
import pytest
from django.core.management import call_command
from websockets.sync.client import connect

from apps.agents.labels import MANAGED_LABEL
from apps.agents.local_images import RECIPE_DIGEST_LABEL, RECIPES, local_image_build, recipe_digest
from apps.agents.runtime.docker import image_inspect
from apps.images.models import Image
from tests.workspaces import running_container, wait_for_http

BUSYBOX, DESKTOP = RECIPES


@pytest.fixture
def busybox_recipe_copy(tmp_path, settings, docker_url):
    """A private copy of the busybox recipe under a throwaway tag, removed afterwards."""
    shutil.copytree(BUSYBOX.directory, tmp_path / BUSYBOX.name)
    settings.WORKSPACE_RECIPES_DIR = tmp_path
    recipe = replace(BUSYBOX, tag=f"kasm-local/busybox-test:pytest-{uuid.uuid4().hex[:8]}")
    yield recipe
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker.DockerClient(base_url=docker_url).images.remove(recipe.tag, force=True)


def test_recipe_digest_changes_with_any_recipe_file(busybox_recipe_copy):
    before = recipe_digest(busybox_recipe_copy)
    assert recipe_digest(busybox_recipe_copy) == before
    (busybox_recipe_copy.directory / "rootfs/www/index.html").write_text("changed")
    assert recipe_digest(busybox_recipe_copy) != before


def test_image_is_rebuilt_only_when_its_recipe_changed(busybox_recipe_copy, docker_url):
    first = local_image_build(busybox_recipe_copy, docker_url=docker_url)
    again = local_image_build(busybox_recipe_copy, docker_url=docker_url)
    assert first.built and not again.built and again.image_id == first.image_id
    (busybox_recipe_copy.directory / "rootfs/www/index.html").write_text("changed")
    changed = local_image_build(busybox_recipe_copy, docker_url=docker_url)
    assert changed.built and changed.image_id != first.image_id
    labels = image_inspect(docker_url, busybox_recipe_copy.tag).labels
    assert labels[MANAGED_LABEL] == "true" and labels[RECIPE_DIGEST_LABEL] == recipe_digest(busybox_recipe_copy)


@pytest.mark.django_db
def test_build_command_registers_both_images_once(built_images):
    out = StringIO()
    call_command("build_workspace_images", stdout=out)
    call_command("build_workspace_images", stdout=out)
    assert out.getvalue().count("up to date") == 4
    images = {image.docker_image: image for image in Image.objects.all()}
    assert set(images) == {BUSYBOX.tag, DESKTOP.tag}
    assert images[DESKTOP.tag].friendly_name == "Debian desktop" and images[DESKTOP.tag].enabled
    assert not images[BUSYBOX.tag].enabled  # the test workspace, which shows no desktop, is not offered to users


@pytest.mark.django_db
def test_build_command_keeps_an_admins_edits(built_images):
    call_command("build_workspace_images", "busybox-test", stdout=StringIO())
    Image.objects.filter(docker_image=BUSYBOX.tag).update(friendly_name="Renamed by admin", cores=2)
    call_command("build_workspace_images", "busybox-test", stdout=StringIO())
    image = Image.objects.get(docker_image=BUSYBOX.tag)
    assert (image.friendly_name, image.cores) == ("Renamed by admin", 2)


def test_busybox_workspace_answers_http_and_websocket_echo(built_images, docker_url):
    with running_container(docker_url, BUSYBOX.tag) as (_, port):
        status, body = wait_for_http(f"http://127.0.0.1:{port}/")
        assert status == 200 and b"busybox test workspace" in body
        with connect(f"ws://127.0.0.1:{port}/echo", open_timeout=10) as websocket:
            for message in ["hello", "x" * 300, "näive 100% {json}"]:
                websocket.send(message)
                assert websocket.recv(timeout=10) == message
        with connect(f"ws://127.0.0.1:{port}/stream", open_timeout=10) as websocket:
            assert [websocket.recv(timeout=10) for _ in range(3)] == ["tick 1", "tick 2", "tick 3"]


def test_desktop_workspace_serves_novnc_and_greets_with_rfb(built_images, docker_url):
    with running_container(docker_url, DESKTOP.tag, environment={"VNC_PW": "s3cret-pw"}) as (_, port):
        status, body = wait_for_http(f"http://127.0.0.1:{port}/vnc.html", timeout=60)
        assert status == 200 and b"noVNC" in body
        with connect(f"ws://127.0.0.1:{port}/websockify", subprotocols=["binary"], open_timeout=10) as websocket:
            assert websocket.recv(timeout=10).startswith(b"RFB 003.")


def test_desktop_workspace_refuses_to_start_without_a_password(built_images, docker_url):
    client = docker.DockerClient(base_url=docker_url)
    container = client.containers.run(DESKTOP.tag, detach=True)
    try:
        assert container.wait(timeout=30)["StatusCode"] != 0
        assert b"VNC_PW must hold the session password" in container.logs()
    finally:
        container.remove(force=True)
