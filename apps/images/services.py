from apps.images.models import Image


def image_ensure_registered(*, docker_image: str, defaults: dict) -> tuple[Image, bool]:
    """Register `docker_image` as a workspace unless an Image already uses it.

    An existing Image is returned untouched, so an admin's edits survive rebuilds.
    """
    return Image.objects.get_or_create(docker_image=docker_image, defaults=defaults)


def group_workspaces_set(*, group, images) -> None:
    """The workspaces `group` grants to its members (besides an 'every workspace' setting)."""
    group.workspaces.set(images)
