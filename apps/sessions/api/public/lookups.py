"""The objects a call names, found or refused (404), and the key's reach over them (403)."""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from apps.accounts.choices import ApiPermission as P
from apps.accounts.models import ApiKey, GroupPolicy, Profile
from apps.accounts.services import group_is_privileged, user_is_privileged
from apps.sessions.api.public.inputs import ApiError
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.selectors import session_get


def user_by_id(user_id: uuid.UUID):
    profile = Profile.objects.select_related("user").filter(pk=user_id).first()
    if profile is None:
        raise ApiError(404, f"No user with user_id '{user_id.hex}'.")
    return profile.user


def user_by_target(target: dict):
    """`target_user` names its user by `user_id` or by `username`."""
    if "user_id" in target:
        return user_by_id(target["user_id"])
    if "username" not in target:
        raise ApiError(400, "Field 'target_user' needs a user_id or a username.")
    user = get_user_model().objects.filter(username=target["username"]).first()
    if user is None:
        raise ApiError(404, f"No user named '{target['username']}'.")
    return user


def acting_user(api_key: ApiKey, user_id: uuid.UUID):
    """The user a session call is about, which a key created for a user must name."""
    user = user_by_id(user_id)
    if api_key.owner_id and user.pk != api_key.owner_id:
        raise ApiError(403, f"This API key acts as '{api_key.owner}' and reaches only their sessions.")
    return user


def managed_user(api_key: ApiKey, target: dict):
    """The user a management call changes; administrators need users_modify_admin."""
    user = user_by_target(target)
    if user_is_privileged(user) and not api_key.has_permission(P.USERS_MODIFY_ADMIN):
        raise ApiError(
            403, f"'{user.username}' is an administrator; changing them needs users_modify_admin or global_admin."
        )
    return user


def session_of(kasm_id: uuid.UUID, user=None) -> Session:
    """The session, which must be `user`'s when one is given; a deleted one is not found."""
    session = session_get(kasm_id)
    if session is None or session.status == SessionStatus.DELETED or (user and session.owner_id != user.pk):
        raise ApiError(404, f"No session with kasm_id '{kasm_id.hex}'" + (" for this user." if user else "."))
    return session


def group_by_id(group_id: uuid.UUID) -> Group:
    policy = GroupPolicy.objects.select_related("group").filter(public_id=group_id).first()
    if policy is None:
        raise ApiError(404, f"No group with group_id '{group_id.hex}'.")
    return policy.group


def managed_group(api_key: ApiKey, group_id: uuid.UUID) -> Group:
    """A group a call changes (or its members); groups that carry permissions need groups_modify_system."""
    group = group_by_id(group_id)
    if group_is_privileged(group) and not api_key.has_permission(P.GROUPS_MODIFY_SYSTEM):
        raise ApiError(
            403, f"The group '{group.name}' carries permissions; its members change only with groups_modify_system."
        )
    return group
