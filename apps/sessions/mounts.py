"""Agent side of persistent profiles and volume mappings: what a session's container mounts.

The manager expands the templates (apps/images/volumes.py); this agent checks every source again
against its own VOLUME_HOST_ROOTS before mounting it, so a manager cannot make it mount any other
host path. A named-volume profile is created by Docker on first use and filled from the image's
home (owner included); a host-path profile's directory is created here, owned by the image's user.
"""

from __future__ import annotations

import os
import shutil

from django.conf import settings

from apps.agents.runtime.docker import DockerError, image_inspect, volume_remove
from apps.common.volumes import BIND_KIND, Mount, source_problems, target_problems

DEFAULT_HOME = "/home/kasm-user"  # Kasm's images' home, for an image that sets no HOME
DEFAULT_UID = 1000  # Kasm's images' user, for an image that names its user instead of a number


def session_mounts(docker_url: str, spec: dict) -> list[tuple[str, str, str, bool]]:
    """The mounts of the session's container, checked; a host-path profile's directory made ready."""
    mounts = [Mount.from_spec(mount) for mount in spec.get("mounts", [])]
    profile = spec.get("profile")
    image = image_inspect(docker_url, spec["docker_image"]) if profile else None
    if profile:
        home = (image.home if image else "") or DEFAULT_HOME
        mounts.insert(0, Mount(profile["kind"], profile["source"], home))
    for mount in mounts:
        problems = source_problems(mount.source, host_roots=settings.VOLUME_HOST_ROOTS) + target_problems(mount.target)
        if problems:
            raise DockerError(f"This agent refuses the mount on {mount.target}: {' '.join(problems)}", retryable=False)
    if profile and profile["kind"] == BIND_KIND:
        _directory_ready(profile["source"], owner=_uid_of(image.user if image else ""))
    return [(mount.kind, mount.source, mount.target, mount.read_only) for mount in mounts]


def profile_remove(docker_url: str, *, kind: str, source: str) -> None:
    """Delete a profile on this agent (a reset): its volume, or its directory under an allowed root."""
    problems = source_problems(source, host_roots=settings.VOLUME_HOST_ROOTS)
    if problems:
        raise DockerError(f"This agent refuses to remove '{source}': {' '.join(problems)}", retryable=False)
    if kind == BIND_KIND:
        shutil.rmtree(source, ignore_errors=not os.path.exists(source))
    else:
        volume_remove(docker_url, source)


def _directory_ready(path: str, *, owner: int) -> None:
    if os.path.isdir(path):
        return
    try:
        os.makedirs(path, mode=0o700)
        if os.geteuid() == 0:
            os.chown(path, owner, owner)
    except OSError as error:
        raise DockerError(f"could not create the profile directory {path}: {error}", retryable=False) from None


def _uid_of(image_user: str) -> int:
    """The uid an image runs as: "1000" or "1000:1000" give 1000, none or "root" 0, another name
    (unknown outside the image) the default."""
    uid = image_user.split(":", 1)[0]
    return int(uid) if uid.isdigit() else (0 if uid in ("", "root") else DEFAULT_UID)
