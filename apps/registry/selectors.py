"""Reads of the registry app: the store front, the size widget and the flag explanations."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, QuerySet

from apps.agents.choices import AgentImageStatus
from apps.agents.models import Agent, AgentImage
from apps.agents.selectors import agents_online
from apps.common.units import MIB
from apps.images.models import Image
from apps.registry.flags import FLAG_PRIVILEGED, FLAG_PROPERTY, FLAG_USER
from apps.registry.models import Registry, RegistryWorkspace
from apps.registry.parser import DEFAULT_SCHEMA_VERSION
from apps.registry.site import workspace_sha

# Docker reports the kernel's machine name; registries use Go's architecture names.
DOCKER_TO_REGISTRY_ARCHITECTURE = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
# Registries give sizes in (decimal) MB: "an image of 2.46GB is 2460".
REGISTRY_MB = 1000**2

FLAG_EXPLANATIONS = {
    FLAG_USER: (
        "A user is set and it is not 1000",
        "This often means the workspace runs as root. Some workspaces need root to work, so it is not "
        "necessarily a concern, but the workspace has elevated privileges inside its container.",
    ),
    FLAG_PRIVILEGED: (
        "Privileged mode",
        "The workspace runs privileged (or an exec hook does), which grants root capabilities on every "
        "device of the host. Only install it from a registry you trust completely.",
    ),
    FLAG_PROPERTY: (
        "Generic flag",
        "The property is neither on the list of ignored nor of safe properties, and has no specific "
        "explanation yet. Look up what it does (e.g. security_opt, cap_add, devices, volumes, ports) "
        "before installing.",
    ),
}


# The Image fields a registry definition sets, with the words the store shows for them.
DEFINITION_FIELDS = {
    "docker_image": "Docker image",
    "friendly_name": "Name",
    "description": "Description",
    "categories": "Categories",
    "cores": "Cores",
    "memory": "Memory",
    "gpus": "GPUs",
    "cpu_allocation_method": "CPU allocation method",
    "stream_protocol": "Stream protocol",
    "run_config": "Run config",
    "exec_config": "Exec config",
}


def image_fields_from_definition(image: Image, definition: dict) -> dict:
    """The values installing `definition` over `image` sets (enabled included), without saving."""
    return {
        "docker_image": definition["name"],
        "friendly_name": definition["friendly_name"][:100],
        "description": definition["description"],
        "categories": definition["categories"],
        "cores": definition.get("cores") or 1,
        "memory": int(definition["memory"] * MIB) if definition.get("memory") else image.memory,
        "gpus": int(definition.get("gpu_count") or 0),
        "cpu_allocation_method": definition["cpu_allocation_method"].lower(),
        "stream_protocol": definition["stream_protocol"],
        "run_config": definition["run_config"],
        "exec_config": definition["exec_config"],
        "enabled": definition.get("enabled", True),
    }


def definition_changes(image: Image, definition: dict) -> list[dict]:
    """What applying `definition` would change on the installed `image`, field by field."""
    new = image_fields_from_definition(image, definition)
    return [
        {"label": label, "current": getattr(image, name), "new": new[name]}
        for name, label in DEFINITION_FIELDS.items()
        if getattr(image, name) != new[name]
    ]


@dataclass
class StoreWorkspace:
    """A registry workspace as a store tile shows it."""

    workspace: RegistryWorkspace
    icon_url: str
    compatible: bool
    changes: list[dict] = field(default_factory=list)  # what "Apply update" would change
    flags: list[dict] = field(default_factory=list)

    @property
    def update_available(self) -> bool:
        return bool(self.changes)

    @property
    def definition(self) -> dict:
        return self.workspace.definition

    @property
    def digest(self) -> str:
        """Posted back with Install / Apply update: what the admin reviewed."""
        return workspace_sha(self.workspace.definition)


def registry_icon_url(registry: Registry, image_src: str) -> str:
    if not image_src or ":" in image_src.split("/", 1)[0]:  # blob:, data:, javascript: ...
        return ""
    return f"{registry.url}{registry.schema_version or DEFAULT_SCHEMA_VERSION}/icons/{image_src}"


def agent_architectures() -> set[str]:
    names = Agent.objects.exclude(architecture="").values_list("architecture", flat=True).distinct()
    return {DOCKER_TO_REGISTRY_ARCHITECTURE.get(name, name) for name in names}


def store_workspaces(registries: QuerySet[Registry]) -> list[StoreWorkspace]:
    architectures = agent_architectures()
    tiles = []
    for registry in registries:
        for workspace in registry.workspaces.all():  # prefetched with their installed images
            wanted = set(workspace.definition.get("architecture") or [])
            image = workspace.installed_image
            tiles.append(
                StoreWorkspace(
                    workspace=workspace,
                    icon_url=registry_icon_url(registry, workspace.definition.get("image_src", "")),
                    compatible=not wanted or not architectures or bool(wanted & architectures),
                    changes=definition_changes(image, workspace.definition) if image is not None else [],
                    flags=workspace.flags,
                )
            )
    return sorted(tiles, key=lambda tile: tile.workspace.friendly_name.lower())


def store_categories(tiles: list[StoreWorkspace]) -> list[str]:
    return sorted({category for tile in tiles for category in tile.definition.get("categories", [])}, key=str.lower)


@dataclass(frozen=True)
class SpaceEstimate:
    """What the workspaces installed from registries take (actual once pulled) against agents' free disk."""

    installed_bytes: int
    pending_bytes: int
    pending_count: int
    failed_count: int
    free_bytes: int
    agent_count: int

    def as_dict(self) -> dict:
        return {
            "installed_bytes": self.installed_bytes,
            "pending_bytes": self.pending_bytes,
            "pending_count": self.pending_count,
            "failed_count": self.failed_count,
            "needed_bytes": self.installed_bytes + self.pending_bytes,
            "free_bytes": self.free_bytes,
            "agent_count": self.agent_count,
        }


def registry_space_estimate() -> SpaceEstimate:
    """Enabled workspaces from registries: pulled (their size), still to pull (the registry's
    estimate), or given up on by every online agent after AGENT_IMAGE_PULL_ATTEMPTS failures."""
    agents = list(agents_online().only("disk_free", "image_sizes"))
    installed = pending = pending_count = failed_count = 0
    images = Image.objects.exclude(source_registry_url="").filter(enabled=True, archived=False)
    given_up = _pulls_given_up(agents)
    for image in images.prefetch_related("registry_workspaces"):
        sizes = [agent.image_sizes.get(image.docker_image, 0) for agent in agents]
        if any(sizes):
            installed += max(sizes)
        elif image.docker_image in given_up:
            failed_count += 1
        else:
            pending_count += 1
            pending += max((_estimated_bytes(w) for w in image.registry_workspaces.all()), default=0)
    return SpaceEstimate(
        installed_bytes=installed,
        pending_bytes=pending,
        pending_count=pending_count,
        failed_count=failed_count,
        free_bytes=sum(agent.disk_free for agent in agents),
        agent_count=len(agents),
    )


def _pulls_given_up(agents: list[Agent]) -> set[str]:
    """References every one of `agents` stopped pulling after too many failures."""
    if not agents:
        return set()
    failed = AgentImage.objects.filter(
        agent__in=agents,
        status=AgentImageStatus.FAILED,
        failed_attempts__gte=settings.AGENT_IMAGE_PULL_ATTEMPTS,
    )
    counts = failed.values("reference").annotate(agents=Count("agent", distinct=True))
    return {row["reference"] for row in counts if row["agents"] == len(agents)}


def _estimated_bytes(workspace: RegistryWorkspace) -> int:
    return int(workspace.definition.get("uncompressed_size_mb") or 0) * REGISTRY_MB
