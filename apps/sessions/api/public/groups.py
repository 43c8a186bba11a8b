"""Group calls: create, update, delete, and members. Groups that carry permissions (the built-in
administrators) change only with groups_modify_system."""

from __future__ import annotations

from apps.accounts.choices import ApiPermission as P
from apps.accounts.models import ApiKey
from apps.accounts.services import (
    group_create,
    group_delete,
    group_members_add,
    group_members_remove,
    group_policy_of,
    group_update,
)
from apps.sessions.api.public import formats as fmt
from apps.sessions.api.public.dispatch import call
from apps.sessions.api.public.inputs import Input, PublicId, Text, WholeNumber, validated
from apps.sessions.api.public.lookups import managed_group, managed_user
from apps.sessions.api.public.users import UserNamed


class GroupNamed(Input):
    group_id = PublicId()


class NewGroup(Input):
    name = Text()
    priority = WholeNumber(default=100)
    description = Text(default="")


class GroupFields(GroupNamed):
    name = Text(required=False)
    priority = WholeNumber(required=False)
    description = Text(required=False)


class Membership(Input):
    target_user = UserNamed()
    target_group = GroupNamed()


class CreateGroup(Input):
    target_group = NewGroup()


class UpdateGroup(Input):
    target_group = GroupFields()


class TargetGroup(Input):
    target_group = GroupNamed()


@call("add_user_group", P.GROUPS_MODIFY)
def add_user_group(api_key: ApiKey, body: dict) -> dict:
    given = validated(Membership, body)
    user = managed_user(api_key, given["target_user"])
    group_members_add(group=managed_group(api_key, given["target_group"]["group_id"]), users=[user])
    return {}


@call("remove_user_group", P.GROUPS_MODIFY)
def remove_user_group(api_key: ApiKey, body: dict) -> dict:
    given = validated(Membership, body)
    user = managed_user(api_key, given["target_user"])
    group_members_remove(group=managed_group(api_key, given["target_group"]["group_id"]), users=[user])
    return {}


@call("create_group", P.GROUPS_MODIFY)
def create_group(api_key: ApiKey, body: dict) -> dict:
    target = validated(CreateGroup, body)["target_group"]
    group = group_create(name=target["name"], priority=target["priority"], description=target["description"])
    return {"group": fmt.group_detail_dict(group, group_policy_of(group))}


@call("update_group", P.GROUPS_MODIFY)
def update_group(api_key: ApiKey, body: dict) -> dict:
    """Name, priority and description."""
    target = validated(UpdateGroup, body)["target_group"]
    group = managed_group(api_key, target["group_id"])
    group_update(
        group=group,
        name=target.get("name") or None,
        priority=target.get("priority"),
        description=target.get("description"),
    )
    return {"group": fmt.group_detail_dict(group, group_policy_of(group))}


@call("delete_group", P.GROUPS_MODIFY)
def delete_group(api_key: ApiKey, body: dict) -> dict:
    group_delete(group=managed_group(api_key, validated(TargetGroup, body)["target_group"]["group_id"]))
    return {}
