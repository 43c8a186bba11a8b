from django.contrib.auth.backends import ModelBackend

from apps.accounts.models import Profile


class UnlockedUserBackend(ModelBackend):
    """Username and password, refusing users whose profile is locked (Kasm's `locked` attribute)."""

    def user_can_authenticate(self, user) -> bool:
        locked = Profile.objects.filter(user=user, locked=True).exists()
        return super().user_can_authenticate(user) and not locked
