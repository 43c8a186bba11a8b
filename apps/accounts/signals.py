from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.accounts.models import Profile


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts_profile_for_new_user")
def profile_for_new_user(sender, instance, created, **kwargs) -> None:
    if created:
        Profile.objects.get_or_create(user=instance)
