"""Writes of the images app: workspaces created, changed, cloned, enabled, archived or deleted."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db import transaction
from django.dispatch import Signal

from apps.common.errors import InvalidInput
from apps.images.icons import ACCEPTED, icon_extension
from apps.images.models import Image

MAX_ICON_BYTES = 1024**2
# News for the apps above: an image is being deleted; receivers destroy its live sessions and
# return whether any session of it is on record (then it is archived, not deleted).
image_deleting = Signal()


def image_ensure_registered(*, docker_image: str, defaults: dict) -> tuple[Image, bool]:
    """Register `docker_image` as a workspace unless an Image already uses it.

    An existing Image is returned untouched, so an admin's edits survive rebuilds.
    """
    return Image.objects.get_or_create(docker_image=docker_image, defaults=defaults)


def group_workspaces_set(*, group, images) -> None:
    """The workspaces `group` grants to its members (besides an 'every workspace' setting)."""
    group.workspaces.set(images)


@transaction.atomic
def image_save(*, image: Image, icon: bytes | None = None) -> Image:
    """Check and save `image` (new or changed), with an uploaded icon when one is given."""
    if icon is not None:
        extension = icon_extension(icon)
        if extension is None or len(icon) > MAX_ICON_BYTES:
            raise InvalidInput(f"An icon is a {ACCEPTED} image of at most {MAX_ICON_BYTES // 1024} KB.")
        image.icon.save(f"{image.hex_id}.{extension}", ContentFile(icon), save=False)
    image.full_clean(exclude=["restrict_to_zone", "restrict_to_agent", "groups"])
    image.save()
    return image


@transaction.atomic
def image_clone(*, image: Image) -> Image:
    """A copy named "... (copy)", disabled until reviewed, granted to the same groups."""
    groups = list(image.groups.all())
    copy = Image.objects.get(pk=image.pk)
    copy.id, copy._state.adding = Image._meta.get_field("id").get_default(), True
    copy.friendly_name = f"{image.friendly_name} (copy)"[:100]
    copy.enabled = False
    copy.source_registry_url, copy.source_sha = "", ""
    copy.save()
    copy.groups.set(groups)
    return copy


def image_set_enabled(*, image: Image, enabled: bool) -> None:
    image.enabled = enabled
    image.save(update_fields=["enabled", "updated_at"])


@transaction.atomic
def image_delete(*, image: Image) -> bool:
    """Delete `image`, its live sessions destroyed first. True when the row is gone; False when
    sessions of it are on record: it is archived (disabled, hidden everywhere) and they keep it."""
    kept = any(on_record for _receiver, on_record in image_deleting.send(sender=Image, image=image))
    if kept:
        image.enabled, image.archived = False, True
        image.save(update_fields=["enabled", "archived", "updated_at"])
        image.groups.clear()
        return False
    image.delete()
    return True
