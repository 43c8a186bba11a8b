"""Writes of the accounts app: users, groups and their policies, API keys, the audit trail.

The console, the Developer API and the Django admin all call these, so a rule holds on every path.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from apps.accounts.choices import ApiPermission
from apps.accounts.group_settings import group_settings_checked
from apps.accounts.models import ApiKey, AuditEvent, GroupPolicy, Profile, WebLogin
from apps.accounts.selectors import ALL_USERS_GROUP  # every user is a member; it cannot be deleted or left
from apps.common.errors import ApplicationError, InvalidInput
from apps.common.hashing import generate_secret, hash_secret, secret_matches
from apps.common.volumes import mappings_checked

ADMINISTRATORS_GROUP = "Administrators"


class PermissionRefused(ApplicationError):
    """The actor may not make this change (the console answers 403)."""


BUILT_IN_GROUPS = (ADMINISTRATORS_GROUP, ALL_USERS_GROUP)
PASSWORD_LENGTH = (8, 1024)
MAX_TEXT_LENGTH = 16 * 1024  # a text column without a maximum (an SSH public key)
API_KEY_USE_RESOLUTION = timedelta(minutes=1)  # how fresh a key's "last used" is kept

# News for the apps above (sessions receives them): a user's access ended (logged out everywhere),
# and a user is being deleted (receivers destroy what is theirs and return how many of their
# sessions still hold capacity; the row goes once none does).
user_logged_out_everywhere = Signal()
user_deleting = Signal()


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
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at >= API_KEY_USE_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)  # not a write per call of a busy key
    return api_key


def api_key_set_enabled(*, api_key: ApiKey, enabled: bool) -> None:
    api_key.enabled = enabled
    api_key.save(update_fields=["enabled", "updated_at"])


def api_key_delete(*, api_key: ApiKey) -> None:
    api_key.delete()


def profile_for_user(*, user) -> Profile:
    """The user's profile, made on first use. It is read once per user object (then cached on it,
    as Django caches a one-to-one), so the many callers of one request or one API listing cost one
    query; code that changes a profile saves that object, or reads the user again."""
    try:
        return user.profile
    except Profile.DoesNotExist:
        profile, _ = Profile.objects.get_or_create(user=user)
        user.profile = profile
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


def actor_may_change_user(*, actor, user) -> None:
    """Console admins manage users; Django staff and superusers only a superuser changes, since a
    password reset would hand their Django admin rights to whoever made it."""
    if (user.is_staff or user.is_superuser) and not actor.is_superuser:
        raise PermissionRefused(f"'{user.get_username()}' is Django staff; only a superuser changes them.")


def actor_may_change_group(*, actor, group: Group) -> None:
    """Groups carrying permissions beyond the console's own (given in the Django admin) change only
    by a superuser: adding a member would hand out those permissions."""
    beyond_console = group.permissions.exclude(codename="access_console", content_type__app_label="accounts")
    if beyond_console.exists() and not actor.is_superuser:
        raise PermissionRefused(f"The group '{group.name}' carries Django permissions; only a superuser changes it.")


def group_is_privileged(group: Group) -> bool:
    """A group whose members gain permissions (Administrators, any group given one in the admin)."""
    return group.permissions.exists()


# Users

USER_MODEL_FIELDS = {"first_name": str, "last_name": str, "email": str}
PROFILE_FIELDS = {"organization": str, "phone": str, "locked": bool}


@dataclass(frozen=True)
class CreatedUser:
    user: object
    password: str  # the generated one, shown once; "" when the caller chose it or none was set


def fitting(model, field: str, value, label: str = ""):
    """`value` if it fits the model column it is stored in (Postgres refuses what is longer)."""
    max_length = model._meta.get_field(field).max_length or MAX_TEXT_LENGTH
    if isinstance(value, str) and len(value) > max_length:
        raise InvalidInput(f"Field '{label or field}' is longer than {max_length} characters.")
    return value


def password_checked(password: str, user=None) -> str:
    low, high = PASSWORD_LENGTH
    if not isinstance(password, str) or not low <= len(password) <= high:
        raise InvalidInput(f"A password has {low} to {high} characters.")
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages)) from None
    return password


@transaction.atomic
def user_create(*, username: str, password: str = "", generate_password: bool = False, fields: dict | None = None):
    """A new user (in All Users by the post_save signal). With `generate_password` the password is
    made here and returned once; with neither a password nor that, the user cannot log in until one is set."""
    username = username_checked(username)
    if get_user_model().objects.filter(username__iexact=username).exists():
        raise ApplicationError(f"A user named '{username}' exists.")
    generated = generate_secret(12) if generate_password else ""
    if password or generated:
        password_checked(password or generated)
    user = get_user_model().objects.create_user(username=username, password=(password or generated) or None)
    user_update(user=user, fields=fields or {})
    return CreatedUser(user=user, password=generated)


@transaction.atomic
def user_update(*, user, fields: dict):
    """Change the fields named in `fields` (USER_MODEL_FIELDS, PROFILE_FIELDS, `disabled`, `password`)."""
    profile = profile_for_user(user=user)
    for name, kind in {**USER_MODEL_FIELDS, **PROFILE_FIELDS, "disabled": bool}.items():
        if name in fields and not isinstance(fields[name], kind):
            raise InvalidInput(f"Field '{name}' must be a {kind.__name__}.")
    if fields.get("email"):
        try:
            validate_email(fields["email"])
        except ValidationError:
            raise InvalidInput(f"'{fields['email'][:100]}' is not an e-mail address.") from None
    for name in USER_MODEL_FIELDS:
        if name in fields:
            setattr(user, name, fitting(get_user_model(), name, fields[name].strip()))
    for name in PROFILE_FIELDS:
        if name in fields:
            setattr(profile, name, fitting(Profile, name, fields[name]))
    if "disabled" in fields:
        user.is_active = not fields["disabled"]
    if "password" in fields:
        user.set_password(password_checked(fields["password"], user))
    user.save()
    profile.save()  # a lock or a disable ends the user's access (sessions' post_save receivers)
    return user


# Profile fields a user's attributes set, by their name in Kasm's API.
ATTRIBUTE_FIELDS = {
    "ssh_public_key": "ssh_public_key",
    "show_tips": "show_tips",
    "theme": "theme",
    "preferred_language": "language",
    "preferred_timezone": "timezone",
    "toggle_control_panel": "toggle_control_panel",
    "auto_login_kasm": "auto_login_kasm",
    "default_image": "default_image",
}


def user_attributes_update(*, user, attributes: dict) -> Profile:
    """Set the attributes given (ATTRIBUTE_FIELDS, their types checked by the caller); each one fits
    its column or the whole change is refused."""
    profile = profile_for_user(user=user)
    for name, field in ATTRIBUTE_FIELDS.items():
        if name in attributes:
            setattr(profile, field, fitting(Profile, field, attributes[name], name))
    profile.save()
    return profile


def user_password_reset(*, user, password: str = "") -> str:
    """Set `password`, or a generated one that is returned (shown once); other logins end."""
    new_password = password or generate_secret(12)
    user.set_password(password_checked(new_password, user))
    user.save(update_fields=["password"])
    user_logout_everywhere(user=user)
    return "" if password else new_password


def user_logout_everywhere(*, user) -> int:
    """End every web login of `user`, and (by signal) their session tokens and open sockets."""
    ended, _ = WebLogin.objects.filter(user_id=user.pk, expire_date__gt=timezone.now()).delete()
    user_logged_out_everywhere.send(sender=user.__class__, user=user)
    return ended


def web_logins_prune() -> int:
    deleted, _ = WebLogin.objects.filter(expire_date__lte=timezone.now()).delete()
    return deleted


STAGING_USERNAME = "kasm:staging"  # a colon: no username anyone can create has one


def staging_user():
    """The owner of staged sessions until a request claims one; it never logs in."""
    user, created = get_user_model().objects.get_or_create(username=STAGING_USERNAME, defaults={"is_active": False})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def anonymous_user_create():
    """A temporary user for a session requested with no user (Kasm's anonymous request_kasm): it
    has no password, so it never logs in, and it is deleted with the last of its sessions."""
    user = get_user_model().objects.create_user(username=f"anonymous-{uuid.uuid4().hex[:16]}", password=None)
    Profile.objects.filter(pk=profile_for_user(user=user).pk).update(deletion_requested_at=timezone.now())
    return user


def user_delete(*, user) -> bool:
    """Delete `user`, their sessions destroyed first. True when the row is gone now; False when
    sessions still hold capacity: the login is disabled at once and the row goes with the last of them."""
    holding = sum(count or 0 for _receiver, count in user_deleting.send(sender=user.__class__, user=user))
    if holding:
        user.is_active = False
        user.save(update_fields=["is_active"])
        Profile.objects.filter(user=user).update(deletion_requested_at=timezone.now())
        return False
    user.delete()
    return True


def user_groups_set(*, user, groups) -> None:
    """Make `groups` the user's groups; All Users stays."""
    groups = set(groups) | {group_all_users()}
    user.groups.set(groups)


# Groups


def group_all_users() -> Group:
    group, created = Group.objects.get_or_create(name=ALL_USERS_GROUP)
    if created:
        GroupPolicy.objects.update_or_create(group=group, defaults={"priority": 1000, "all_workspaces": True})
    return group


def group_policy_of(group: Group) -> GroupPolicy:
    policy, _ = GroupPolicy.objects.get_or_create(group=group)
    return policy


def group_name_checked(name: str, *, group: Group | None = None) -> str:
    name = fitting(Group, "name", (name or "").strip(), "name")
    if not name:
        raise InvalidInput("A group needs a name.")
    clash = Group.objects.filter(name__iexact=name).exclude(pk=getattr(group, "pk", None))
    if clash.exists():
        raise ApplicationError(f"A group named '{name}' exists.")
    return name


@transaction.atomic
def group_create(
    *, name: str, priority: int = 100, description: str = "", volume_mappings: list | None = None
) -> Group:
    group = Group.objects.create(name=group_name_checked(name))
    policy = group_policy_of(group)
    group_update(group=group, priority=priority, description=description, volume_mappings=volume_mappings)
    return policy.group


@transaction.atomic
def group_update(
    *,
    group: Group,
    name: str | None = None,
    priority: int | None = None,
    description: str | None = None,
    all_workspaces: bool | None = None,
    settings: dict | None = None,
    volume_mappings: list | None = None,
) -> Group:
    """Change what is given; `settings` replaces the group's settings (a name left out is unset),
    `volume_mappings` its mappings."""
    policy = group_policy_of(group)
    if name is not None and name.strip() != group.name:
        if group.name in BUILT_IN_GROUPS:
            raise ApplicationError(f"'{group.name}' is a built-in group; it keeps its name.")
        group.name = group_name_checked(name, group=group)
        group.save(update_fields=["name"])
    if priority is not None:
        if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 100000:
            raise InvalidInput("A group's priority is a whole number from 1 to 100000.")
        policy.priority = priority
    if description is not None:
        policy.description = fitting(GroupPolicy, "description", description.strip())
    if all_workspaces is not None:
        policy.all_workspaces = bool(all_workspaces)
    if settings is not None:
        policy.settings = group_settings_checked(settings)
    if volume_mappings is not None:
        policy.volume_mappings = mappings_checked(volume_mappings, host_roots=django_settings.VOLUME_HOST_ROOTS)
    policy.save()
    return group


def group_delete(*, group: Group) -> None:
    if group.name in BUILT_IN_GROUPS:
        raise ApplicationError(f"'{group.name}' is a built-in group and cannot be deleted.")
    group.delete()


def group_members_add(*, group: Group, users) -> None:
    group.user_set.add(*users)


def group_members_remove(*, group: Group, users) -> None:
    if group.name == ALL_USERS_GROUP:
        raise ApplicationError("Every user is in All Users; restrict what it grants instead of removing members.")
    group.user_set.remove(*users)


# Audit trail


def audit_record(
    *, action: str, target: str = "", actor=None, api_key: ApiKey | None = None, address: str = "", details=None
) -> AuditEvent:
    """Record one administrative write: who (a user or an API key), what, on what, from where."""
    return AuditEvent.objects.create(
        action=action[:64],
        target=str(target)[:300],
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=(actor.get_username() if getattr(actor, "pk", None) else "")[:150],
        api_key=api_key,
        api_key_name=api_key.name if api_key else "",
        address=address[:64],
        details=details or {},
    )


def audit_prune(*, days: int, now: datetime | None = None) -> int:
    """Delete audit rows older than `days` days; returns how many went."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _ = AuditEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
