"""Which images an agent must have, and which it may prune: only the platform's own, ever."""

import contextlib
import io
import tarfile
import uuid

import docker
import pytest

from apps.agents.choices import AgentImageStatus, PruneMode
from apps.agents.image_sync import ImageSyncPlan, images_sync, images_to_prune
from apps.agents.labels import MANAGED_LABEL
from apps.agents.models import AgentImage, Zone
from apps.agents.runtime.docker import ImageInfo, image_inspect, images_list
from apps.agents.selectors import image_sync_plan
from apps.agents.services import agent_image_results_record, agent_image_retry
from apps.images.models import Image
from tests.agents.factories import agent

MANAGED_DANGLING = ImageInfo("", "sha256:1", {MANAGED_LABEL: "true"}, 1)
PULLED_DANGLING = ImageInfo("", "sha256:2", {}, 1, repositories=("kasmweb/firefox",))
FOREIGN_DANGLING = ImageInfo("", "sha256:3", {}, 1, repositories=("postgres",))
DEFINED = ImageInfo("kasmweb/chrome:1.16", "sha256:4", {}, 1, ("kasmweb/chrome:1.16",), ("kasmweb/chrome",))
UNDEFINED_MANAGED = ImageInfo("kasm-local/old:1", "sha256:5", {MANAGED_LABEL: "true"}, 1, ("kasm-local/old:1",))
UNDEFINED_PULLED = ImageInfo("kasmweb/firefox:1.15", "sha256:6", {}, 1, ("kasmweb/firefox:1.15",), ("kasmweb/firefox",))
FOREIGN_TAGGED = ImageInfo("postgres:16", "sha256:7", {}, 1, ("postgres:16",), ("postgres",))
ALL = [
    MANAGED_DANGLING,
    PULLED_DANGLING,
    FOREIGN_DANGLING,
    DEFINED,
    UNDEFINED_MANAGED,
    UNDEFINED_PULLED,
    FOREIGN_TAGGED,
]


def plan(mode: str) -> ImageSyncPlan:
    return ImageSyncPlan(pull=[], keep=["kasmweb/chrome:1.16"], managed=["kasmweb/firefox:1.15"], prune_mode=mode)


def test_prune_off_removes_nothing():
    assert images_to_prune(ALL, plan(PruneMode.OFF)) == []


def test_prune_normal_removes_only_dangling_workspace_images():
    assert images_to_prune(ALL, plan(PruneMode.NORMAL)) == [MANAGED_DANGLING, PULLED_DANGLING]


def test_prune_aggressive_also_removes_workspace_images_no_longer_defined():
    assert images_to_prune(ALL, plan(PruneMode.AGGRESSIVE)) == [
        MANAGED_DANGLING,
        PULLED_DANGLING,
        UNDEFINED_MANAGED,
        UNDEFINED_PULLED,
    ]


@pytest.mark.django_db
def test_plan_pulls_enabled_images_the_agent_lacks_within_its_restrictions():
    eu = Zone.objects.create(name="eu")
    host = agent(zone=eu, images_present=["kasm-local/busybox-test:latest"])
    other = agent("other")
    Image.objects.create(docker_image="kasm-local/busybox-test:latest", friendly_name="busybox")
    Image.objects.create(docker_image="kasmweb/chrome:1.16", friendly_name="chrome", restrict_to_zone=eu)
    Image.objects.create(docker_image="kasmweb/firefox:1.15", friendly_name="ff", restrict_to_agent=other)
    Image.objects.create(docker_image="kasmweb/off:1", friendly_name="off", enabled=False)
    result = image_sync_plan(host)
    assert result.keep == ["kasm-local/busybox-test:latest", "kasmweb/chrome:1.16"]
    assert result.pull == ["kasmweb/chrome:1.16"]


@pytest.mark.django_db
def test_failed_pulls_stop_after_the_attempt_limit_until_an_admin_retries(settings):
    settings.AGENT_IMAGE_PULL_ATTEMPTS = 2
    host = agent()
    Image.objects.create(docker_image="kasmweb/chrome:1.16", friendly_name="chrome")
    failure = [{"reference": "kasmweb/chrome:1.16", "status": "failed", "error": "registry unreachable"}]
    agent_image_results_record(agent=host, results=failure)
    assert image_sync_plan(host).pull == ["kasmweb/chrome:1.16"]
    agent_image_results_record(agent=host, results=failure)
    state = AgentImage.objects.get()
    assert (state.status, state.failed_attempts, state.error) == ("failed", 2, "registry unreachable")
    assert image_sync_plan(host).pull == []
    agent_image_retry(agent=host, reference="kasmweb/chrome:1.16")
    assert image_sync_plan(host).pull == ["kasmweb/chrome:1.16"]


def build_tiny_image(client: docker.DockerClient, tag: str | None, *, managed: bool, marker: str) -> str:
    """A one-file image built from a tar context (no base image needed)."""
    dockerfile = f'FROM scratch\nLABEL marker="{marker}"\nCOPY marker /marker\n'
    if managed:
        dockerfile += f'LABEL {MANAGED_LABEL}="true"\n'
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in (("Dockerfile", dockerfile.encode()), ("marker", marker.encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    image, _ = client.images.build(fileobj=buffer, custom_context=True, tag=tag, rm=True)
    return image.id


@pytest.fixture
def engine_images(docker_url):
    """A managed image made dangling by a rebuild, an unmanaged dangling one, and tagged ones of each kind."""
    client = docker.DockerClient(base_url=docker_url)
    run = uuid.uuid4().hex[:8]
    ids = {
        "managed_dangling": build_tiny_image(client, f"kasm-local/prune-{run}:1", managed=True, marker="old"),
        "managed_current": build_tiny_image(client, f"kasm-local/prune-{run}:1", managed=True, marker="new"),
        "unmanaged_dangling": build_tiny_image(client, None, managed=False, marker=f"foreign-{run}"),
        "unmanaged_tagged": build_tiny_image(client, f"someone/else-{run}:1", managed=False, marker="x"),
        "managed_undefined": build_tiny_image(client, f"kasm-local/gone-{run}:1", managed=True, marker="gone"),
    }
    yield ids, run
    for image_id in ids.values():
        with contextlib.suppress(docker.errors.ImageNotFound, docker.errors.APIError):
            client.images.remove(image_id, force=True)


def present(docker_url: str, image_id: str) -> bool:
    return image_inspect(docker_url, image_id) is not None


def test_normal_prune_on_a_real_engine_removes_the_managed_dangling_image_only(docker_url, engine_images):
    ids, run = engine_images
    sync_plan = ImageSyncPlan(pull=[], keep=[f"kasm-local/prune-{run}:1"], managed=[], prune_mode=PruneMode.NORMAL)
    images_sync(docker_url=docker_url, plan=sync_plan)
    assert not present(docker_url, ids["managed_dangling"])
    assert all(present(docker_url, ids[name]) for name in ids if name != "managed_dangling")


def test_aggressive_prune_on_a_real_engine_also_removes_undefined_workspace_images(docker_url, engine_images):
    ids, run = engine_images
    # Every other tagged image stays defined, so the shared engine keeps the suite's workspace images.
    keep = [tag for image in images_list(docker_url) for tag in image.tags if tag != f"kasm-local/gone-{run}:1"]
    sync_plan = ImageSyncPlan(pull=[], keep=keep, managed=[], prune_mode=PruneMode.AGGRESSIVE)
    images_sync(docker_url=docker_url, plan=sync_plan)
    assert not present(docker_url, ids["managed_dangling"]) and not present(docker_url, ids["managed_undefined"])
    for name in ("managed_current", "unmanaged_dangling", "unmanaged_tagged"):
        assert present(docker_url, ids[name]), name


def test_sync_reports_local_images_present_and_unpullable_ones_failed(docker_url, engine_images):
    _, run = engine_images
    missing = f"kasm-local/never-built-{run}:1"
    sync_plan = ImageSyncPlan(pull=[f"kasm-local/prune-{run}:1", missing], keep=[], managed=[], prune_mode="off")
    results = images_sync(docker_url=docker_url, plan=sync_plan)["results"]
    assert results[0] == {"reference": f"kasm-local/prune-{run}:1", "status": AgentImageStatus.PRESENT}
    assert results[1]["status"] == AgentImageStatus.FAILED and missing in results[1]["error"]
