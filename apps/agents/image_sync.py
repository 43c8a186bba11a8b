"""Agent side of image management: pull what is missing, prune what the admin's mode allows.

Only images this platform manages are ever pruned: those carrying the managed label, or whose
repository is one the manager says it defines or defined on this agent. Others are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.agents.choices import AgentImageStatus, PruneMode
from apps.agents.docker_names import reference_split
from apps.agents.labels import MANAGED_LABEL
from apps.agents.runtime.docker import DockerError, ImageInfo, image_inspect, image_pull, image_remove, images_list


@dataclass(frozen=True)
class ImageSyncPlan:
    """What the manager asks of an agent: references to make present, to keep, and ever managed."""

    pull: list[str]
    keep: list[str]
    managed: list[str]
    prune_mode: str


def images_to_prune(images: list[ImageInfo], plan: ImageSyncPlan) -> list[ImageInfo]:
    """The images the plan's prune mode removes; pure, so every rule is easy to test."""
    if plan.prune_mode == PruneMode.OFF:
        return []
    managed_repositories = {reference_split(reference)[0] for reference in [*plan.managed, *plan.keep]}

    def is_managed(image: ImageInfo) -> bool:
        return image.labels.get(MANAGED_LABEL) == "true" or bool(managed_repositories & set(image.repositories))

    dangling = [image for image in images if not image.tags and is_managed(image)]
    if plan.prune_mode == PruneMode.NORMAL:
        return dangling
    undefined = [image for image in images if image.tags and is_managed(image) and not set(image.tags) & set(plan.keep)]
    return dangling + undefined


def images_sync(*, docker_url: str, plan: ImageSyncPlan) -> dict:
    """Run the plan; return per-image results and what was pruned (or could not be)."""
    results = [_ensure_present(docker_url, reference) for reference in plan.pull]
    pruned, kept_in_use = [], []
    for image in images_to_prune(images_list(docker_url), plan):
        try:
            image_remove(docker_url, image.id)
            pruned.append(image.reference or image.id)
        except DockerError as error:  # e.g. a container still uses it
            kept_in_use.append({"image": image.reference or image.id, "error": str(error)})
    return {"results": results, "pruned": pruned, "not_pruned": kept_in_use}


def _ensure_present(docker_url: str, reference: str) -> dict:
    if image_inspect(docker_url, reference) is not None:
        return {"reference": reference, "status": AgentImageStatus.PRESENT.value}
    try:
        image_pull(docker_url, reference)
    except DockerError as error:
        return {"reference": reference, "status": AgentImageStatus.FAILED.value, "error": str(error)}
    return {"reference": reference, "status": AgentImageStatus.PRESENT.value}
