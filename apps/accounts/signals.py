from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.accounts.models import GroupPolicy, Profile
from apps.accounts.services import group_all_users


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts_profile_for_new_user")
def profile_for_new_user(sender, instance, created, **kwargs) -> None:
    """Every user has a profile and is in All Users, however they were made (console, API, admin)."""
    if created:
        Profile.objects.get_or_create(user=instance)
        instance.groups.add(group_all_users())


@receiver(post_save, sender=Group, dispatch_uid="accounts_policy_for_new_group")
def policy_for_new_group(sender, instance, created, **kwargs) -> None:
    if created:
        GroupPolicy.objects.get_or_create(group=instance)
