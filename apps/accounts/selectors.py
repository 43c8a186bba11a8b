"""Reads of the accounts app."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Count, Q, QuerySet

from apps.accounts.group_settings import UserPolicy, policy_resolved
from apps.accounts.models import AuditEvent, GroupPolicy

ALL_USERS_GROUP = "All Users"


def user_is_console_admin(user) -> bool:
    """Admins use the console; a user gets there by the `access_console` permission (or superuser)."""
    return bool(user.is_authenticated and user.has_perm("accounts.access_console"))


def user_group_policies(user) -> QuerySet[GroupPolicy]:
    """The policies of the user's groups, All Users always among them."""
    # A subquery, not a join on the members: All Users' row would come once per member otherwise.
    groups = Q(group__in=user.groups.values("pk")) | Q(group__name=ALL_USERS_GROUP)
    return GroupPolicy.objects.filter(groups).select_related("group")


def user_policy(user, *, group_policies: list[GroupPolicy] | None = None) -> UserPolicy:
    """The settings in force for `user`; `group_policies`: theirs, when the caller read them already."""
    policies = user_group_policies(user) if group_policies is None else group_policies
    return policy_resolved([(policy.priority, policy.group.name, policy.settings) for policy in policies])


def users_for_console(*, search: str = "") -> QuerySet:
    """Users for the console's list, searched by username, name, e-mail or organisation."""
    users = get_user_model().objects.select_related("profile").order_by("username")
    if search:
        users = users.filter(
            Q(username__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(email__icontains=search)
            | Q(profile__organization__icontains=search)
        )
    return users


def groups_for_console() -> QuerySet[Group]:
    return Group.objects.select_related("policy").order_by("policy__priority", "name")


def group_member_counts(group_ids: list[int]) -> dict[int, int]:
    members = get_user_model().groups.through.objects.filter(group_id__in=group_ids)
    return dict(members.values_list("group_id").annotate(count=Count("id")))


def audit_events(*, actor: str = "", action: str = "", target: str = "") -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if actor:
        events = events.filter(Q(actor_name__icontains=actor) | Q(api_key_name__icontains=actor))
    if action:
        events = events.filter(action=action)
    if target:
        events = events.filter(target__icontains=target)
    return events
