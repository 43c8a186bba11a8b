"""Receivers of the news of the apps below (connected in SessionsConfig.ready)."""

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.accounts.models import Profile
from apps.accounts.services import user_deleting, user_logged_out_everywhere
from apps.agents.signals import agents_checked_in, agents_went_offline
from apps.images.services import image_deleting
from apps.sessions.services import (
    sessions_destroy_for_deleted_image,
    sessions_destroy_for_deleted_user,
    sessions_flag_agents_offline,
    sessions_reconcile,
    user_access_revoke,
)


@receiver(agents_checked_in, dispatch_uid="sessions_reconcile_on_checkin")
def reconcile_on_checkin(sender, reports, **kwargs) -> None:
    sessions_reconcile(reports=reports)


@receiver(agents_went_offline, dispatch_uid="sessions_flag_on_agent_offline")
def flag_on_agent_offline(sender, agents, **kwargs) -> None:
    sessions_flag_agents_offline(agents=agents)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="sessions_revoke_on_disable")
def revoke_on_disable(sender, instance, created, **kwargs) -> None:
    """Whoever disables a user (the API, the console, the Django admin) ends their access at once."""
    if not created and not instance.is_active:
        user_access_revoke(user_id=instance.pk)


@receiver(post_save, sender=Profile, dispatch_uid="sessions_revoke_on_lock")
def revoke_on_lock(sender, instance, **kwargs) -> None:
    if instance.locked:
        user_access_revoke(user_id=instance.user_id)


@receiver(user_logged_out_everywhere, dispatch_uid="sessions_revoke_on_logout_everywhere")
def revoke_on_logout_everywhere(sender, user, **kwargs) -> None:
    user_access_revoke(user_id=user.pk)


@receiver(user_deleting, dispatch_uid="sessions_destroy_on_user_delete")
def destroy_on_user_delete(sender, user, **kwargs) -> int:
    return sessions_destroy_for_deleted_user(user=user)


@receiver(image_deleting, dispatch_uid="sessions_destroy_on_image_delete")
def destroy_on_image_delete(sender, image, **kwargs) -> bool:
    return sessions_destroy_for_deleted_image(image=image)
