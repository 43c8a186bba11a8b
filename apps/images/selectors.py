from django.db.models import QuerySet

from apps.accounts.models import GroupPolicy
from apps.accounts.selectors import user_group_policies
from apps.images.models import Image


def image_list_launchable() -> QuerySet[Image]:
    return Image.objects.filter(enabled=True, archived=False).order_by("friendly_name")


def images_for_console() -> QuerySet[Image]:
    """Every workspace that is not archived, for the console's list."""
    return Image.objects.filter(archived=False).select_related("restrict_to_zone").order_by("friendly_name")


def images_launchable_by(user) -> QuerySet[Image]:
    """The enabled workspaces `user` may launch: all of them when one of their groups (All Users
    included) is allowed every workspace, else those granted to any of their groups."""
    policies = list(user_group_policies(user).values_list("group_id", "all_workspaces"))
    images = image_list_launchable()
    if any(all_workspaces for _group, all_workspaces in policies):
        return images
    return images.filter(groups__in=[group for group, _all in policies]).distinct()


def image_launchable_by(user, image: Image, *, group_policies: list[GroupPolicy] | None = None) -> bool:
    """Whether `user` may launch `image` (as read a moment ago); `group_policies`: the user's, when
    the caller read them already (then a group allowed every workspace costs no query)."""
    if group_policies is None:
        return images_launchable_by(user).filter(pk=image.pk).exists()
    if not image.enabled or image.archived:
        return False
    if any(policy.all_workspaces for policy in group_policies):
        return True
    return image.groups.filter(pk__in=[policy.group_id for policy in group_policies]).exists()
