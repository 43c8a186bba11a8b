from django.contrib.auth.backends import ModelBackend

from apps.accounts.models import Profile
from apps.accounts.throttle import TooManyFailures, client_address, failure_record, failures_check, failures_clear


def login_identities(request, username: str | None) -> dict[str, str]:
    return {"user": (username or "").strip().lower(), "address": client_address(request.META) if request else ""}


class UnlockedUserBackend(ModelBackend):
    """Username and password, refusing users whose profile is locked (Kasm's `locked` attribute),
    and any sign-in of an account or address with too many recent failures (every login form,
    the Django admin's included, comes through here)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        identities = login_identities(request, username)
        try:
            failures_check("login", identities)
        except TooManyFailures:
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            failure_record("login", identities)
        else:
            failures_clear("login", {"user": identities["user"]})
        return user

    def user_can_authenticate(self, user) -> bool:
        locked = Profile.objects.filter(user=user, locked=True).exists()
        return super().user_can_authenticate(user) and not locked
