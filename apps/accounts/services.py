from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from apps.accounts.choices import ApiPermission
from apps.accounts.models import ApiKey, Profile
from apps.common.errors import ApplicationError, InvalidInput
from apps.common.hashing import generate_secret, hash_secret, secret_matches

ADMINISTRATORS_GROUP = "Administrators"


@dataclass(frozen=True)
class IssuedApiKey:
    """The only moment the secret exists in clear: returned once to whoever created the key."""

    api_key: ApiKey
    secret: str


def api_key_create(
    *, name: str, owner=None, permissions: list[str] | None = None, expires_at: datetime | None = None
) -> IssuedApiKey:
    """Create a key; no permissions given means full admin rights."""
    permissions = list(permissions) if permissions else [ApiPermission.GLOBAL_ADMIN.value]
    unknown = sorted(set(permissions) - set(ApiPermission.values))
    if unknown:
        raise ApplicationError(
            f"Unknown permission(s) {', '.join(unknown)}; choose from {', '.join(ApiPermission.values)}."
        )
    if not name.strip():
        raise ApplicationError("An API key needs a name.")
    secret = generate_secret()
    api_key = ApiKey.objects.create(
        name=name.strip(),
        key=generate_secret(12),
        secret_hash=hash_secret(secret),
        owner=owner,
        permissions=permissions,
        expires_at=expires_at,
    )
    return IssuedApiKey(api_key=api_key, secret=secret)


def api_key_authenticate(*, key: str, secret: str) -> ApiKey:
    """Return the enabled, unexpired key matching `key` + `secret`, or raise with the reason."""
    api_key = ApiKey.objects.filter(key=key).first()
    if api_key is None or not secret_matches(secret, api_key.secret_hash):
        raise ApplicationError("Invalid API key or secret.")
    if not api_key.enabled:
        raise ApplicationError(f"API key '{api_key.name}' is disabled.")
    if api_key.expires_at and api_key.expires_at <= timezone.now():
        raise ApplicationError(f"API key '{api_key.name}' expired at {api_key.expires_at.isoformat()}.")
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
    return api_key


def profile_for_user(*, user) -> Profile:
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


def user_by_username(*, username: str):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ApplicationError(f"No user named '{username}'.")
    return user


def user_make_console_admin(*, user) -> None:
    """Add `user` to the Administrators group (created with its permission if it went missing)."""
    permission = Permission.objects.get(codename="access_console", content_type__app_label="accounts")
    group, _ = Group.objects.get_or_create(name=ADMINISTRATORS_GROUP)
    group.permissions.add(permission)
    user.groups.add(group)


def username_checked(username: str) -> str:
    """`username` stripped, if it is a Django username (letters of any alphabet, digits, @ . + - _)
    or an e-mail address (Kasm names its users so, e.g. o'brien+test@example.co.uk)."""
    username = username.strip()
    max_length = get_user_model()._meta.get_field("username").max_length
    if not username or len(username) > max_length:
        raise InvalidInput(f"A username has 1 to {max_length} characters.")
    for validate in (UnicodeUsernameValidator(), validate_email):
        try:
            validate(username)
            return username
        except ValidationError:
            continue
    raise InvalidInput(
        f"'{username[:50]}' is not a valid username: use letters, digits and @ . + - _, or an e-mail address."
    )


def user_is_privileged(user) -> bool:
    """Staff, a superuser, or holding any permission (directly or through a group, such as the
    console's Administrators) - whether or not the account is active now, since re-enabling it
    is itself a change of an administrator."""
    return (
        user.is_staff
        or user.is_superuser
        or user.user_permissions.exists()
        or user.groups.filter(permissions__isnull=False).exists()
    )


def group_is_privileged(group: Group) -> bool:
    """A group whose members gain permissions (Administrators, any group given one in the admin)."""
    return group.permissions.exists()
