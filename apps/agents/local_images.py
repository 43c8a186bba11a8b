"""Workspace images built on this machine from recipes in `workspaces/`, since none can be pulled.

Each built image carries the digest of its recipe as a label; a build is skipped when the image
on the engine has the current digest, so only a changed recipe triggers a rebuild.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from apps.agents.labels import MANAGED_LABEL
from apps.agents.runtime.docker import DockerError, image_build, image_inspect
from apps.common.units import GIB
from apps.images.services import image_ensure_registered

RECIPE_DIGEST_LABEL = "org.kasm-local.recipe-digest"
BUSYBOX_BINARY = Path("/bin/busybox")


@dataclass(frozen=True)
class LocalRecipe:
    """How to build one local workspace image and how it appears as an Image."""

    name: str
    tag: str
    friendly_name: str
    description: str
    cores: float
    memory: int
    categories: tuple[str, ...]
    builder: str  # "dockerfile": `docker build` of the folder; "rootfs": the folder's build.sh
    extra_inputs: tuple[Path, ...] = ()  # build inputs outside the recipe folder
    # Registered enabled, for users; the test workspace serves no desktop and starts disabled.
    enabled_at_first: bool = True

    @property
    def directory(self) -> Path:
        return settings.WORKSPACE_RECIPES_DIR / self.name


RECIPES = (
    LocalRecipe(
        name="busybox-test",
        tag="kasm-local/busybox-test:latest",
        friendly_name="Busybox test workspace",
        description="Tiny workspace for tests: HTTP and a WebSocket echo on 6901, starts in a blink.",
        cores=0.5,
        memory=GIB // 8,
        categories=("Testing",),
        builder="dockerfile",
        extra_inputs=(BUSYBOX_BINARY,),
        enabled_at_first=False,
    ),
    LocalRecipe(
        name="desktop",
        tag="kasm-local/desktop:latest",
        friendly_name="Debian desktop",
        description="Debian with Openbox and a terminal, streamed over noVNC.",
        cores=1,
        memory=GIB,
        categories=("Desktop", "Development"),
        builder="rootfs",
    ),
)


@dataclass(frozen=True)
class BuildOutcome:
    recipe: LocalRecipe
    built: bool
    image_id: str


def recipe_digest(recipe: LocalRecipe) -> str:
    """sha256 over every file of the recipe (paths and contents) and its extra inputs."""
    digest = hashlib.sha256()
    files = sorted(path for path in recipe.directory.rglob("*") if path.is_file())
    for path in files:
        digest.update(str(path.relative_to(recipe.directory)).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for path in recipe.extra_inputs:
        digest.update(str(path).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def local_image_build(recipe: LocalRecipe, *, docker_url: str, force: bool = False) -> BuildOutcome:
    """Build `recipe` unless the engine already has an image of the same recipe digest."""
    digest = recipe_digest(recipe)
    existing = image_inspect(docker_url, recipe.tag)
    if existing and existing.labels.get(RECIPE_DIGEST_LABEL) == digest and not force:
        return BuildOutcome(recipe=recipe, built=False, image_id=existing.id)
    labels = {MANAGED_LABEL: "true", RECIPE_DIGEST_LABEL: digest}
    build = _build_busybox_context if recipe.builder == "dockerfile" else _build_rootfs
    image = build(recipe, docker_url=docker_url, labels=labels)
    return BuildOutcome(recipe=recipe, built=True, image_id=image.id)


def _build_busybox_context(recipe: LocalRecipe, *, docker_url: str, labels: dict[str, str]):
    if not BUSYBOX_BINARY.exists():
        raise DockerError(f"{BUSYBOX_BINARY} is missing; install Debian's busybox-static.", retryable=False)
    with tempfile.TemporaryDirectory(prefix="kasm-busybox-") as context:
        shutil.copytree(recipe.directory, context, dirs_exist_ok=True)
        shutil.copy2(BUSYBOX_BINARY, Path(context) / "busybox")
        return image_build(docker_url, context_dir=Path(context), tag=recipe.tag, labels=labels)


def _build_rootfs(recipe: LocalRecipe, *, docker_url: str, labels: dict[str, str]):
    if not shutil.which("debootstrap"):
        raise DockerError("debootstrap is missing; install Debian's debootstrap.", retryable=False)
    changes = [arg for key, value in labels.items() for arg in ("--change", f"LABEL {key}={value}")]
    env = {**os.environ, "DOCKER_HOST": docker_url}
    result = subprocess.run(
        [str(recipe.directory / "build.sh"), recipe.tag, *changes], env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise DockerError(f"building {recipe.tag} failed: {result.stderr.strip()[-2000:]}", retryable=True)
    return image_inspect(docker_url, recipe.tag)


def local_image_register(recipe: LocalRecipe):
    """Make the recipe's image launchable, keeping an admin's edits to an existing Image."""
    image, _ = image_ensure_registered(
        docker_image=recipe.tag,
        defaults={
            "friendly_name": recipe.friendly_name,
            "description": recipe.description,
            "cores": recipe.cores,
            "memory": recipe.memory,
            "categories": list(recipe.categories),
            "icon_url": f"{settings.STATIC_URL}img/workspaces/{recipe.name}.svg",
            "enabled": recipe.enabled_at_first,
        },
    )
    return image
