"""`manage.py registry`: the CLI for automation."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.images.models import Image
from apps.registry.models import Registry
from tests.conftest import run_manage
from tests.registry.sites import REAL_REGISTRY_COUNTS, copy_real_registries, serving, workspace_entry, write_registry
from tests.servers import free_port


def registry_command(*args) -> str:
    out = StringIO()
    call_command("registry", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_list_json_describes_every_workspace_with_flags_and_invalid_entries(tmp_path):
    Registry.objects.all().delete()
    copy_real_registries(tmp_path / "real")
    write_registry(tmp_path / "messy", [workspace_entry("ok/one:1"), {"friendly_name": "Broken"}], name="Messy")
    with serving(tmp_path) as url:
        registry_command("add", url + "real/doctorfree__kasm-registry")
        registry_command("add", url + "real/KodeStar__kasm-registry/1.0/")
        registry_command("add", url + "messy/")
    rows = json.loads(registry_command("list", "--json"))
    assert (
        len(rows)
        == REAL_REGISTRY_COUNTS["doctorfree__kasm-registry"] + REAL_REGISTRY_COUNTS["KodeStar__kasm-registry"] + 2
    )
    assert all(set(row) >= {"registry", "name", "friendly_name", "installed", "flags"} for row in rows)
    appimage = next(row for row in rows if row["name"] == "doctorwhen/kasm:appimage")
    assert appimage["registry"] == "Record Technologies" and appimage["installed"] is False
    assert appimage["flags"] == [
        {"property": "privileged", "flag": "privileged", "source": "run_config"},
        {"property": "first_launch", "flag": "user", "source": "exec_config"},
    ]
    broken = [row for row in rows if "errors" in row]
    assert broken == [
        {
            "registry": "Messy",
            "name": "",
            "friendly_name": "Broken",
            "installed": False,
            "flags": [],
            "errors": ["'name' is required and must be a non-empty string"],
        }
    ]


@pytest.mark.django_db
def test_install_update_and_remove_from_the_command_line(tmp_path):
    write_registry(tmp_path, [workspace_entry("ok/one:1"), workspace_entry("risky/one:1", run_config={"user": "root"})])
    with serving(tmp_path) as url:
        registry_command("add", url, "--auto-update")
        assert "Updated Test registry: 2 workspaces." in registry_command("update", url)
        registry_command("install", "ok/one:1")
        with pytest.raises(CommandError, match="flagged for review"):
            registry_command("install", "risky/one:1")
        registry_command("install", "risky/one:1", "--confirm-flags")
    assert Registry.objects.get(url=url).auto_update is True
    rows = {row["name"]: row["installed"] for row in json.loads(registry_command("list", "--json"))}
    assert rows["ok/one:1"] is True and rows["risky/one:1"] is True
    registry_command("remove", "Test registry")
    assert not Registry.objects.filter(url=url).exists()
    assert Image.objects.filter(docker_image__in=["ok/one:1", "risky/one:1"]).count() == 2
    with pytest.raises(CommandError, match="No registry lists 'nope:1'"):
        registry_command("install", "nope:1")


def test_errors_exit_non_zero_with_a_one_line_reason(live_database_url, tmp_path):
    env = {"DATABASE_URL": live_database_url}
    result = run_manage("registry", "add", f"http://127.0.0.1:{free_port()}/", env=env, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "Cannot connect to http://127.0.0.1:" in result.stderr
    result = run_manage("registry", "remove", "unknown", env=env, check=False)
    assert result.returncode == 1 and "No registry is named 'unknown'" in result.stderr


def test_build_site_writes_a_registry_others_can_add(tmp_path, settings):
    out = registry_command("build-site", str(settings.FIRST_PARTY_REGISTRY_DIR), str(tmp_path))
    assert out.startswith(f"Built {tmp_path}:")
    assert (tmp_path / "versions.txt").read_text() == "1.0\n"
    listing = json.loads((tmp_path / "1.0" / "list.json").read_text())
    assert listing["workspacecount"] == len(listing["workspaces"])
    assert all((tmp_path / "1.0" / "icons" / workspace["image_src"]).is_file() for workspace in listing["workspaces"])


def test_build_site_names_the_file_of_an_invalid_workspace(tmp_path):
    source = tmp_path / "src"
    (source / "workspaces" / "bad").mkdir(parents=True)
    (source / "registry.json").write_text('{"name": "Mine"}')
    (source / "workspaces" / "bad" / "workspace.json").write_text('{"name": "x/y:1"}')
    with pytest.raises(CommandError, match=r"bad/workspace.json: 'friendly_name' is required"):
        registry_command("build-site", str(source), str(tmp_path / "out"))


def site_with_icon(tmp_path, image_src: str):
    source = tmp_path / "src"
    folder = source / "workspaces" / "one"
    folder.mkdir(parents=True)
    (source / "registry.json").write_text('{"name": "Mine"}')
    definition = {"name": "x/y:1", "friendly_name": "One", "image_src": image_src}
    (folder / "workspace.json").write_text(json.dumps(definition))
    (tmp_path / "secret.txt").write_text("not for publishing")
    return source, folder


@pytest.mark.parametrize("image_src", ["../../../secret.txt", "/etc/hostname", "link.png", "sub/../../../secret.txt"])
def test_build_site_publishes_nothing_outside_the_workspace_folder(tmp_path, image_src):
    source, folder = site_with_icon(tmp_path, image_src)
    (folder / "link.png").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(CommandError, match="image_src must name an icon file in"):
        registry_command("build-site", str(source), str(tmp_path / "out"))
    published = [p.read_text() for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert "not for publishing" not in published


def test_build_site_writes_icons_under_their_own_name_inside_the_output(tmp_path):
    source, folder = site_with_icon(tmp_path, "art/../art/icon.png")
    (folder / "art").mkdir()
    (folder / "art" / "icon.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    registry_command("build-site", str(source), str(tmp_path / "out"))
    assert [p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.png")] == [
        "1.0/icons/icon.png"
    ]
    assert json.loads((tmp_path / "out" / "1.0" / "list.json").read_text())["workspaces"][0]["image_src"] == "icon.png"
