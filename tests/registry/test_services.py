from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from apps.common.errors import ApplicationError
from apps.common.units import GIB
from apps.images.models import Image
from apps.registry.fetcher import RegistryFetchError
from apps.registry.models import Registry, RegistryWorkspace
from apps.registry.parser import RegistryFormatError
from apps.registry.selectors import image_fields_from_definition, store_workspaces
from apps.registry.services import (
    registries_auto_update,
    registry_add,
    registry_remove,
    registry_restore_first_party,
    registry_update,
    registry_workspace_apply_update,
    registry_workspace_install,
)
from apps.registry.site import registry_site_build, workspace_sha
from tests.registry.sites import (
    REAL_REGISTRY_COUNTS,
    copy_real_registries,
    serving,
    workspace_entry,
    write_registry,
)
from tests.servers import free_port

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(scope="module")
def real_sites(tmp_path_factory):
    with serving(copy_real_registries(tmp_path_factory.mktemp("real"))) as base_url:
        yield base_url


@pytest.mark.parametrize("folder", sorted(REAL_REGISTRY_COUNTS))
def test_each_real_registry_is_added_with_all_its_workspaces(real_sites, folder):
    registry = registry_add(url=f"{real_sites}{folder}")
    assert registry.workspaces.count() == REAL_REGISTRY_COUNTS[folder]
    assert registry.schema_version == "1.0" and registry.last_error == "" and registry.entry_errors == []
    assert registry.auto_update is False and registry.last_fetched_at is not None


def test_flags_are_stored_with_each_workspace(real_sites):
    registry = registry_add(url=f"{real_sites}doctorfree__kasm-registry/1.0/")
    appimage = registry.workspaces.get(docker_image="doctorwhen/kasm:appimage")
    assert {"property": "privileged", "flag": "privileged", "source": "run_config"} in appimage.flags
    kode = registry_add(url=f"{real_sites}KodeStar__kasm-registry/")
    assert all(workspace.flags == [] for workspace in kode.workspaces.all())


def test_a_registry_with_malformed_entries_imports_the_valid_ones_and_reports_the_rest(tmp_path):
    write_registry(tmp_path, [workspace_entry("ok/one:1"), {"name": 5}, workspace_entry("ok/two:1", memory=[])])
    with serving(tmp_path) as url:
        registry = registry_add(url=url)
    assert list(registry.workspaces.values_list("docker_image", flat=True)) == ["ok/one:1"]
    assert [(error["index"], error["error"][:6]) for error in registry.entry_errors] == [(1, "'name'"), (2, "'memor")]


def test_an_unreachable_url_is_refused_and_nothing_is_added():
    with pytest.raises(RegistryFetchError, match="Cannot connect"):
        registry_add(url=f"http://127.0.0.1:{free_port()}/registry/")
    assert not Registry.objects.filter(is_first_party=False).exists()


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("html/", RegistryFormatError, "HTML page"),
        ("redirect-loop/", RegistryFetchError, "redirects more than 5 times"),
        ("missing/", RegistryFetchError, "not a workspace registry"),
    ],
)
def test_urls_that_are_not_registries_give_clear_errors_and_no_state(tmp_path, path, error, message):
    with serving(tmp_path) as url, pytest.raises(error, match=message):
        registry_add(url=url + path)
    assert not Registry.objects.filter(is_first_party=False).exists() and not RegistryWorkspace.objects.exists()


@override_settings(REGISTRY_MAX_LIST_BYTES=1024**2)
def test_a_huge_response_is_cut_off_at_the_size_limit(tmp_path):
    with serving(tmp_path) as url, pytest.raises(RegistryFetchError, match="larger than the 1,048,576-byte limit"):
        registry_add(url=url + "huge/")
    assert not Registry.objects.filter(is_first_party=False).exists()


def test_only_http_urls_are_accepted():
    for url in ["file:///etc/passwd", "ftp://example.org/", "javascript:alert(1)"]:
        with pytest.raises(ApplicationError, match="not an http"):
            registry_add(url=url)


def test_a_failed_update_keeps_the_last_good_list_and_records_the_error(tmp_path):
    write_registry(tmp_path, [workspace_entry("ok/one:1")])
    with serving(tmp_path) as url:
        registry = registry_add(url=url)
        (tmp_path / "1.0" / "list.json").write_text("{ not json")
        with pytest.raises(RegistryFormatError):
            registry_update(registry=registry)
    registry.refresh_from_db()
    assert "not valid JSON" in registry.last_error
    assert list(registry.workspaces.values_list("docker_image", flat=True)) == ["ok/one:1"]


def test_an_update_refreshes_the_list_but_never_changes_an_installed_workspace(tmp_path):
    write_registry(tmp_path, [workspace_entry("ok/one:1", sha="1" * 40), workspace_entry("gone/soon:1")])
    with serving(tmp_path) as url:
        registry = registry_add(url=url)
        image = registry_workspace_install(
            reviewed_digest=None, workspace=registry.workspaces.get(docker_image="ok/one:1")
        )
        write_registry(tmp_path, [workspace_entry("ok/one:1", sha="2" * 40, cores=4, friendly_name="Renamed")])
        registry_update(registry=registry)
    image.refresh_from_db()
    workspace = registry.workspaces.get()
    assert (workspace.friendly_name, workspace.sha, workspace.installed_image) == ("Renamed", "2" * 40, image)
    assert (image.friendly_name, image.cores, image.source_sha) == ("One", 1, "1" * 40)


def test_applying_an_update_brings_the_image_to_the_new_definition(tmp_path):
    write_registry(tmp_path, [workspace_entry("ok/one:1", sha="1" * 40)])
    with serving(tmp_path) as url:
        registry = registry_add(url=url)
        image = registry_workspace_install(reviewed_digest=None, workspace=registry.workspaces.get())
        write_registry(tmp_path, [workspace_entry("ok/one:1", sha="2" * 40, cores=3, run_config={"user": "root"})])
        registry_update(registry=registry)
    workspace = registry.workspaces.get()
    with pytest.raises(ApplicationError, match="flagged for review"):
        registry_workspace_apply_update(reviewed_digest=None, workspace=workspace)
    seen_before_the_update = workspace_sha({**workspace.definition, "cores": 1, "run_config": {}})
    with pytest.raises(ApplicationError, match="changed 'One' after you opened it"):
        registry_workspace_apply_update(reviewed_digest=seen_before_the_update, workspace=workspace, confirm_flags=True)
    image.refresh_from_db()
    assert image.run_config == {}
    registry_workspace_apply_update(
        reviewed_digest=workspace_sha(workspace.definition), workspace=workspace, confirm_flags=True
    )
    image.refresh_from_db()
    assert (image.cores, image.source_sha, image.run_config) == (3, "2" * 40, {"user": "root"})


def test_install_creates_an_image_with_the_registry_definition_and_a_local_icon(tmp_path):
    entry = workspace_entry(
        "ok/tool:2",
        image_src="tool.png",
        cores=2,
        memory=2048,
        gpu_count=1,
        cpu_allocation_method="Quotas",
        categories=["Dev", "Tools"],
        run_config={"hostname": "tool"},
        exec_config={"go": {"cmd": "echo go"}},
    )
    write_registry(tmp_path, [entry], icons={"tool.png": PNG})
    with serving(tmp_path) as url:
        registry = registry_add(url=url)
        image = registry_workspace_install(reviewed_digest=None, workspace=registry.workspaces.get())
    assert (image.docker_image, image.friendly_name, image.cores, image.gpus) == ("ok/tool:2", "Tool", 2, 1)
    assert (image.memory, image.cpu_allocation_method, image.stream_protocol) == (2048 * 1024**2, "quotas", "kasmvnc")
    assert (image.categories, image.run_config) == (["Dev", "Tools"], {"hostname": "tool"})
    assert (image.source_registry_url, image.source_sha) == (registry.url, "a" * 40)
    assert image.icon.read() == PNG
    assert registry.workspaces.get().installed_image == image
    with pytest.raises(ApplicationError, match="already installed"):
        registry_workspace_install(reviewed_digest=None, workspace=registry.workspaces.get())


def test_a_flagged_workspace_installs_only_with_explicit_confirmation(tmp_path):
    write_registry(tmp_path, [workspace_entry("risky/one:1", run_config={"privileged": True})])
    with serving(tmp_path) as url:
        workspace = registry_add(url=url).workspaces.get()
    with pytest.raises(ApplicationError, match=r"flagged for review \(privileged\)"):
        registry_workspace_install(reviewed_digest=None, workspace=workspace)
    assert not Image.objects.filter(docker_image="risky/one:1").exists()
    registry_workspace_install(reviewed_digest=None, workspace=workspace, confirm_flags=True)
    assert Image.objects.filter(docker_image="risky/one:1").exists()


def test_an_edited_definition_is_validated_and_installed_as_edited(tmp_path):
    write_registry(tmp_path, [workspace_entry("ok/one:1", run_config={"privileged": True})])
    with serving(tmp_path) as url:
        workspace = registry_add(url=url).workspaces.get()
    with pytest.raises(ApplicationError, match="'cores' must be a number"):
        registry_workspace_install(
            reviewed_digest=None, workspace=workspace, definition={**workspace.definition, "cores": "x"}
        )
    edited = {**workspace.definition, "run_config": {"hostname": "safe"}, "friendly_name": "Edited"}
    image = registry_workspace_install(reviewed_digest=None, workspace=workspace, definition=edited)
    assert (image.friendly_name, image.run_config) == ("Edited", {"hostname": "safe"})


def test_removing_a_registry_keeps_its_installed_workspaces(tmp_path):
    write_registry(tmp_path, [workspace_entry("ok/one:1")])
    with serving(tmp_path) as url:
        registry = registry_add(url=url)
    image = registry_workspace_install(reviewed_digest=None, workspace=registry.workspaces.get())
    registry_remove(registry=registry)
    assert Image.objects.filter(pk=image.pk).exists() and not RegistryWorkspace.objects.exists()


def test_auto_update_runs_for_enabled_registries_only(tmp_path, settings):
    enabled_dir, disabled_dir = tmp_path / "on", tmp_path / "off"
    write_registry(enabled_dir, [workspace_entry("on/one:1")], name="On")
    write_registry(disabled_dir, [workspace_entry("off/one:1")], name="Off")
    with serving(tmp_path) as url:
        Registry.objects.all().delete()  # the first-party registry is not served here
        enabled = registry_add(url=url + "on/", auto_update=True)
        disabled = registry_add(url=url + "off/")
        write_registry(enabled_dir, [workspace_entry("on/one:1"), workspace_entry("on/two:1")], name="On")
        write_registry(disabled_dir, [workspace_entry("off/one:1"), workspace_entry("off/two:1")], name="Off")
        # Both were read when added: due once the interval has passed.
        due = timezone.now() + timedelta(seconds=settings.REGISTRY_AUTO_UPDATE_INTERVAL)
        outcomes = registries_auto_update(now=due)
    assert [(registry.pk, error) for registry, error in outcomes] == [(enabled.pk, "")]
    assert enabled.workspaces.count() == 2 and disabled.workspaces.count() == 1


def test_the_first_party_registry_is_there_on_a_fresh_install_and_can_be_restored():
    first_party = Registry.objects.get(is_first_party=True)
    assert first_party.auto_update is True
    first_party.delete()
    restored = registry_restore_first_party()
    assert restored.is_first_party and restored.auto_update


def test_the_first_party_site_is_built_from_workspace_json_files_and_reads_back(tmp_path, settings):
    site = registry_site_build(settings.FIRST_PARTY_REGISTRY_DIR, tmp_path / "site")
    assert {"kasm-local/busybox-test:latest", "kasm-local/desktop:latest"} <= {
        workspace["name"] for workspace in site.listing["workspaces"]
    }
    assert all(len(workspace["sha"]) == 40 for workspace in site.listing["workspaces"])
    with serving(tmp_path / "site") as url:
        settings.FIRST_PARTY_REGISTRY_URL = url
        registry = registry_update(registry=Registry.objects.get(is_first_party=True))
    assert registry.url == url and registry.name == "Kasm Local"
    assert registry.workspaces.count() == len(site.listing["workspaces"]) and registry.entry_errors == []
    busybox = registry.workspaces.get(docker_image="kasm-local/busybox-test:latest")
    assert busybox.flags == [] and busybox.definition["stream_protocol"] == "novnc"


def test_an_update_is_offered_only_when_it_changes_something_and_says_what(tmp_path):
    entry = workspace_entry("ok/one:1", sha="1" * 40, cores=2)
    write_registry(tmp_path, [entry])
    with serving(tmp_path) as url:
        registry = registry_add(url=url)
        # registered by hand (or by build_workspace_images) as the registry defines it
        definition = registry.workspaces.get().definition
        preinstalled = Image.objects.create(**image_fields_from_definition(Image(memory=GIB), definition))
        registry_update(registry=registry)
        (tile,) = store_workspaces(Registry.objects.all())
        assert tile.workspace.installed_image == preinstalled and not tile.update_available
        write_registry(tmp_path, [{**entry, "sha": "2" * 40}])
        registry_update(registry=registry)  # a new sha, nothing else new
        (tile,) = store_workspaces(Registry.objects.all())
        assert not tile.update_available
        write_registry(tmp_path, [{**entry, "sha": "3" * 40, "cores": 4}])
        registry_update(registry=registry)
    (tile,) = store_workspaces(Registry.objects.all())
    assert tile.update_available and tile.changes == [{"label": "Cores", "current": 2, "new": 4}]
