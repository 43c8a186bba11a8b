"""Persistent profiles and volume mappings on the real engine: a home survives its container, a
reset empties it, host paths stay under the agent's allowed roots, read-only stays read-only."""

import os

import pytest

from apps.agents.runtime.docker import DockerError, container_exec, container_remove
from apps.sessions.launcher import session_container_start
from apps.sessions.mounts import profile_remove
from tests.sessions.test_launcher import spec

pytestmark = pytest.mark.docker


def run(docker_url: str, container_id: str, command: str) -> tuple[int, str]:
    return container_exec(docker_url, container_id, cmd=["sh", "-c", command])


def test_a_volume_profile_keeps_the_home_between_sessions_and_a_reset_empties_it(volume_name, started, docker_url):
    profile = {"kind": "volume", "source": volume_name, "reset": False}
    first, _ = started(spec(profile=profile))
    assert run(docker_url, first.container_id, 'echo "my notes" > "$HOME/notes.txt"')[0] == 0
    container_remove(docker_url, first.container_id)

    again, _ = started(spec(profile=profile))
    assert run(docker_url, again.container_id, 'cat "$HOME/notes.txt"; stat -c %u "$HOME"') == (0, "my notes\n1000\n")
    container_remove(docker_url, again.container_id)

    reset, _ = started(spec(profile={**profile, "reset": True}))
    exit_code, _ = run(docker_url, reset.container_id, 'test -e "$HOME/notes.txt"')
    assert exit_code == 1


def test_a_profile_in_use_is_not_removed(volume_name, started, docker_url):
    started(spec(profile={"kind": "volume", "source": volume_name, "reset": False}))
    with pytest.raises(DockerError, match="in use"):
        profile_remove(docker_url, kind="volume", source=volume_name)


def test_a_host_path_profile_is_created_for_the_images_user_under_an_allowed_root(
    started, docker_url, tmp_path, settings
):
    settings.VOLUME_HOST_ROOTS = [str(tmp_path)]
    home = tmp_path / "profiles" / "u1"
    launched, _ = started(spec(profile={"kind": "bind", "source": str(home), "reset": False}))
    assert run(docker_url, launched.container_id, 'echo kept > "$HOME/file"')[0] == 0
    assert (home / "file").read_text() == "kept\n" and os.stat(home).st_uid == 1000
    container_remove(docker_url, launched.container_id)
    profile_remove(docker_url, kind="bind", source=str(home))
    assert not home.exists()


def test_host_paths_outside_the_agents_roots_are_refused(docker_url, built_images, tmp_path, settings):
    settings.VOLUME_HOST_ROOTS = [str(tmp_path / "allowed")]
    for mounts, profile in (
        ([{"kind": "bind", "source": "/etc", "target": "/host-etc", "read_only": True}], None),
        ([], {"kind": "bind", "source": str(tmp_path / "elsewhere"), "reset": False}),
    ):
        with pytest.raises(DockerError, match="refuses the mount"):
            session_container_start(docker_url=docker_url, spec=spec(mounts=mounts, profile=profile))
    with pytest.raises(DockerError, match="refuses to remove"):
        profile_remove(docker_url, kind="bind", source="/etc")
    assert not (tmp_path / "elsewhere").exists()


def test_a_read_only_mapping_cannot_be_written(volume_name, started, docker_url):
    mounts = [
        {"kind": "volume", "source": volume_name, "target": "/shared", "read_only": True},
    ]
    launched, container = started(spec(mounts=mounts))
    exit_code, output = run(docker_url, launched.container_id, "touch /shared/x")
    assert exit_code != 0 and "Read-only" in output
    assert [(m["Name"], m["RW"]) for m in container.attrs["Mounts"]] == [(volume_name, False)]
