"""User calls: create, read, update, delete, log out, attributes. Writes go through the accounts
services, which check each value; administrators change only with users_modify_admin."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from apps.accounts.choices import ApiPermission as P
from apps.accounts.models import ApiKey
from apps.accounts.services import user_attributes_update, user_create, user_delete, user_logout_everywhere, user_update
from apps.sessions.api.public import formats as fmt
from apps.sessions.api.public.dispatch import call
from apps.sessions.api.public.inputs import ApiError, Flag, Input, PublicId, Text, validated
from apps.sessions.api.public.lookups import managed_user, user_by_target
from apps.sessions.choices import SessionStatus


class UserNamed(Input):
    """A user named by user_id or username."""

    user_id = PublicId(required=False)
    username = Text(required=False)


class UserFields(UserNamed):
    password = Text(required=False)
    first_name = Text(required=False)
    last_name = Text(required=False)
    email = Text(required=False)
    phone = Text(required=False)
    organization = Text(required=False)
    locked = Flag(required=False)
    disabled = Flag(required=False)


class NewUser(UserFields):
    username = Text()


class TargetUser(Input):
    target_user = UserNamed()


class CreateUser(Input):
    target_user = NewUser()


class UpdateUser(Input):
    target_user = UserFields()


class DeleteUser(TargetUser):
    force = Flag(default=False)


class OptionalPublicId(PublicId):
    """A UUID, or "" for none."""

    def to_internal_value(self, data):
        return None if data == "" else super().to_internal_value(data)


class Attributes(UserNamed):
    ssh_public_key = Text(required=False)
    show_tips = Flag(required=False)
    theme = Text(required=False)
    preferred_language = Text(required=False)
    preferred_timezone = Text(required=False)
    toggle_control_panel = Flag(required=False)
    auto_login_kasm = Flag(required=False)
    default_image = OptionalPublicId(required=False)


class UpdateAttributes(Input):
    target_user_attributes = Attributes()


def _fields(target: dict) -> dict:
    """The fields to change, without what names the user."""
    return {name: value for name, value in target.items() if name not in ("user_id", "username")}


@call("create_user", P.USERS_MODIFY)
def create_user(api_key: ApiKey, body: dict) -> dict:
    target = validated(CreateUser, body)["target_user"]
    created = user_create(username=target["username"], fields=_fields(target))
    return {"user": fmt.user_dict(created.user)}


@call("get_user", P.USERS_VIEW)
def get_user(api_key: ApiKey, body: dict) -> dict:
    return {"user": fmt.user_dict(user_by_target(validated(TargetUser, body)["target_user"]))}


@call("get_users", P.USERS_VIEW)
def get_users(api_key: ApiKey, body: dict) -> dict:
    users = get_user_model().objects.select_related("profile").prefetch_related("groups").order_by("username")
    return {"users": [fmt.user_dict(user) for user in users]}


@call("update_user", P.USERS_MODIFY)
def update_user(api_key: ApiKey, body: dict) -> dict:
    target = validated(UpdateUser, body)["target_user"]
    if "user_id" not in target:
        raise ApiError(400, "Field 'target_user.user_id' is required.")
    user = user_update(user=managed_user(api_key, target), fields=_fields(target))
    return {"user": fmt.user_dict(user)}


@call("delete_user", P.USERS_MODIFY)
def delete_user(api_key: ApiKey, body: dict) -> dict:
    """Refused while the user has live sessions, unless `force` (which destroys them first)."""
    given = validated(DeleteUser, body)
    user = managed_user(api_key, given["target_user"])
    live = user.workspace_sessions.filter(status__in=SessionStatus.LIVE).count()
    if live and not given["force"]:
        raise ApiError(409, f"User '{user.username}' has {live} live sessions; pass \"force\": true to destroy them.")
    user_delete(user=user)
    return {}


@call("logout_user", P.USERS_MODIFY)
def logout_user(api_key: ApiKey, body: dict) -> dict:
    """Ends the user's web logins (found by the user, not by reading every login)."""
    user_logout_everywhere(user=managed_user(api_key, validated(TargetUser, body)["target_user"]))
    return {}


@call("get_attributes", P.USERS_VIEW)
def get_attributes(api_key: ApiKey, body: dict) -> dict:
    return {"user_attributes": fmt.attributes_dict(user_by_target(validated(TargetUser, body)["target_user"]))}


@call("update_user_attributes", P.USERS_MODIFY)
def update_user_attributes(api_key: ApiKey, body: dict) -> dict:
    attributes = validated(UpdateAttributes, body)["target_user_attributes"]
    user = managed_user(api_key, attributes)
    user_attributes_update(user=user, attributes=_fields(attributes))
    return {"user_attributes": fmt.attributes_dict(user)}
