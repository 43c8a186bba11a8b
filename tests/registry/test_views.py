"""The registry console: store front, flags, edit before install, size widget; the first-party site."""

import json

import pytest

from apps.agents.models import Agent, AgentImage
from apps.images.models import Image
from apps.registry.models import Registry
from apps.registry.services import registry_add
from apps.registry.site import workspace_sha
from tests.agents.factories import agent
from tests.registry.sites import serving, workspace_entry, write_registry

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(tmp_path):
    entries = [
        workspace_entry("ok/safe:1", categories=["Browser"], uncompressed_size_mb=2460),
        workspace_entry(
            "risky/one:1",
            friendly_name="Risky",
            architecture=["arm64"],
            run_config={"privileged": True, "security_opt": ["seccomp=unconfined"]},
        ),
        workspace_entry(
            "evil/xss:1",
            friendly_name="<img src=x onerror=alert(1)>",
            description="<script>alert('owned')</script>",
            categories=["<b>bold</b>"],
            image_src="javascript:alert(1)",
        ),
    ]
    write_registry(tmp_path, entries, name="<i>Shady</i> registry")
    with serving(tmp_path) as url:
        yield registry_add(url=url)


def test_plain_users_cannot_open_the_registry(client, alice):
    client.force_login(alice)
    assert client.get("/console/registry/").status_code == 403
    assert client.post("/console/registry/add/", {"url": "http://127.0.0.1:1/"}).status_code == 403


def test_store_shows_tiles_with_flags_and_links_to_their_explanations(console, registry):
    agent("x86", architecture="x86_64")
    html = console.get("/console/registry/").content.decode()
    assert html.count('<li class="tile') == 3
    assert 'class="tile flagged incompatible"' in html  # arm64-only on an x86_64 fleet
    assert '<code>privileged</code> → <a href="/console/registry/flags/#privileged">privileged</a>' in html
    assert '<code>security_opt</code> → <a href="/console/registry/flags/#flag_property">flag_property</a>' in html
    assert "Not built for your agents' architecture" in html
    flags_page = console.get("/console/registry/flags/").content.decode()
    assert 'id="flag_property"' in flags_page and 'id="user"' in flags_page and 'id="privileged"' in flags_page


def test_everything_from_the_registry_is_escaped(console, registry):
    html = console.get("/console/registry/").content.decode()
    assert "<script>alert('owned')</script>" not in html
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in html
    assert "<img src=x onerror" not in html and "<b>bold</b>" not in html and "<i>Shady</i>" not in html
    assert "javascript:" not in html


def test_install_from_the_store_requires_confirming_flags(console, registry):
    risky = registry.workspaces.get(docker_image="risky/one:1")
    reviewed = {"reviewed": workspace_sha(risky.definition)}  # as the store's Install form posts it
    response = console.post(f"/console/registry/workspaces/{risky.hex_id}/install/", reviewed, follow=True)
    assert "flagged for review" in response.content.decode()
    assert not Image.objects.filter(docker_image="risky/one:1").exists()
    console.post(f"/console/registry/workspaces/{risky.hex_id}/install/", {**reviewed, "confirm_flags": "on"})
    assert Image.objects.filter(docker_image="risky/one:1").exists()
    assert "Installed" in console.get("/console/registry/").content.decode()


def test_edit_shows_the_full_definition_and_installs_the_changes(console, registry):
    risky = registry.workspaces.get(docker_image="risky/one:1")
    page = console.get(f"/console/registry/workspaces/{risky.hex_id}/edit/").content.decode()
    assert "seccomp=unconfined" in page and "Flagged for review" in page
    form = {
        "name": "risky/one:1",
        "friendly_name": "Tamed",
        "description": "",
        "categories": "Dev, Tools",
        "cores": "2",
        "memory": "1024",
        "gpu_count": "0",
        "cpu_allocation_method": "Shares",
        "stream_protocol": "novnc",
        "run_config": json.dumps({"hostname": "tamed"}),
        "exec_config": "{}",
        "reviewed": workspace_sha(risky.definition),
    }
    bad = console.post(f"/console/registry/workspaces/{risky.hex_id}/edit/", {**form, "run_config": "{nope"})
    assert bad.status_code == 200 and "Enter a valid JSON" in bad.content.decode()
    console.post(f"/console/registry/workspaces/{risky.hex_id}/edit/", form)
    image = Image.objects.get(docker_image="risky/one:1")
    assert (image.friendly_name, image.run_config, image.categories) == (
        "Tamed",
        {"hostname": "tamed"},
        ["Dev", "Tools"],
    )
    assert (image.cpu_allocation_method, image.stream_protocol, image.cores) == ("shares", "novnc", 2)


def test_size_widget_counts_estimates_until_agents_report_the_image(console, registry):
    host = agent("disk", disk_free=50 * 1000**3)
    safe = registry.workspaces.get(docker_image="ok/safe:1")
    console.post(f"/console/registry/workspaces/{safe.hex_id}/install/", {"reviewed": workspace_sha(safe.definition)})
    space = console.get("/console/registry/space/").json()
    assert space == {
        "installed_bytes": 0,
        "pending_bytes": 2460 * 1000**2,
        "pending_count": 1,
        "failed_count": 0,
        "needed_bytes": 2460 * 1000**2,
        "free_bytes": 50 * 1000**3,
        "agent_count": 1,
    }
    Agent.objects.filter(pk=host.pk).update(image_sizes={"ok/safe:1": 1_900_000_000})
    space = console.get("/console/registry/space/").json()
    assert (space["installed_bytes"], space["pending_count"], space["needed_bytes"]) == (
        1_900_000_000,
        0,
        1_900_000_000,
    )


def test_size_widget_counts_failed_pulls_as_failed_not_pulling(console, registry, settings):
    settings.AGENT_IMAGE_PULL_ATTEMPTS = 3
    host = agent("disk", disk_free=50 * 1000**3)
    safe = registry.workspaces.get(docker_image="ok/safe:1")
    console.post(f"/console/registry/workspaces/{safe.hex_id}/install/", {"reviewed": workspace_sha(safe.definition)})
    AgentImage.objects.create(agent=host, reference="ok/safe:1", status="failed", failed_attempts=3, error="denied")
    space = console.get("/console/registry/space/").json()
    assert (space["pending_count"], space["failed_count"], space["pending_bytes"]) == (0, 1, 0)
    registry.delete()  # the registry removed: still failed, never "pulling"
    assert console.get("/console/registry/space/").json()["pending_count"] == 0
    Image.objects.filter(docker_image="ok/safe:1").update(enabled=False)
    assert console.get("/console/registry/space/").json()["failed_count"] == 0  # a disabled workspace is not counted


def test_update_now_and_remove_from_the_console(console, registry, tmp_path):
    response = console.post(f"/console/registry/{registry.hex_id}/update/", follow=True)
    assert "Updated &lt;i&gt;Shady&lt;/i&gt; registry: 3 workspaces." in response.content.decode()
    console.post(f"/console/registry/{registry.hex_id}/auto-update/", {"enabled": "on"})
    assert Registry.objects.get(pk=registry.pk).auto_update is True
    console.post(f"/console/registry/{registry.hex_id}/remove/")
    assert not Registry.objects.filter(pk=registry.pk).exists()


def test_adding_a_bad_url_shows_the_reason(console):
    response = console.post("/console/registry/add/", {"url": "ftp://example.org/"}, follow=True)
    assert "is not an http(s) URL" in response.content.decode()


def test_the_first_party_registry_is_served_publicly_in_the_registry_format(client):
    assert client.get("/registry/versions.txt").content == b"1.0\n"
    listing = client.get("/registry/1.0/list.json").json()
    assert listing["name"] == "Kasm Local" and listing["workspacecount"] == len(listing["workspaces"])
    icon = client.get(f"/registry/1.0/icons/{listing['workspaces'][0]['image_src']}")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    assert client.get("/registry/1.0/icons/..%2Fregistry.json").status_code == 404


def test_removed_first_party_registry_can_be_restored_from_the_console(console):
    Registry.objects.filter(is_first_party=True).delete()
    assert "Restore the first-party registry" in console.get("/console/registry/").content.decode()
    console.post("/console/registry/restore-first-party/")
    assert Registry.objects.filter(is_first_party=True, auto_update=True).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("cores", "1e308"), ("memory", str(10**15)), ("gpu_count", "100000"), ("run_config", "[" * 100_000)],
)
def test_edit_refuses_what_no_machine_has_or_no_parser_reads_under_the_field(console, registry, field, value):
    risky = registry.workspaces.get(docker_image="risky/one:1")
    form = {"name": "risky/one:1", "friendly_name": "Risky", "cores": "2", "memory": "1024", "gpu_count": "0"}
    form |= {"cpu_allocation_method": "Shares", "stream_protocol": "novnc", "run_config": "{}", "exec_config": "{}"}
    response = console.post(f"/console/registry/workspaces/{risky.hex_id}/edit/", {**form, field: value})
    assert response.status_code == 200 and list(response.context["form"].errors) == [field]
    assert not Image.objects.filter(docker_image="risky/one:1").exists()


def test_a_definition_changed_after_the_admin_opened_it_is_not_installed(console, registry):
    risky = registry.workspaces.get(docker_image="risky/one:1")
    page = console.get("/console/registry/").content.decode()
    reviewed = workspace_sha(risky.definition)
    assert f'name="reviewed" value="{reviewed}"' in page
    risky.definition = {**risky.definition, "run_config": {"privileged": True, "network_mode": "host"}}
    risky.save()  # a registry update lands between the page and the click
    for path in ("install/", "edit/"):
        response = console.post(
            f"/console/registry/workspaces/{risky.hex_id}/{path}",
            {"reviewed": reviewed, "confirm_flags": "on", "name": "risky/one:1", "friendly_name": "Risky"}
            | {"cores": "1", "memory": "1024", "gpu_count": "0", "cpu_allocation_method": "Shares"}
            | {"stream_protocol": "novnc", "run_config": "{}", "exec_config": "{}"},
            follow=True,
        )
        assert "changed &#x27;Risky&#x27; after you opened it" in response.content.decode()
    assert not Image.objects.filter(docker_image="risky/one:1").exists()
