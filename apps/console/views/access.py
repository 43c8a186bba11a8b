"""Console pages for access management (users, groups, API keys, audit trail) and every user's
profile page. Each POST calls one service and is recorded in the audit trail."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.choices import ApiPermission
from apps.accounts.decorators import console_admin_required
from apps.accounts.group_settings import GROUP_SETTINGS
from apps.accounts.models import ApiKey
from apps.accounts.selectors import (
    ALL_USERS_GROUP,
    audit_events,
    group_member_counts,
    groups_for_console,
    user_policy,
    users_for_console,
)
from apps.accounts.services import (
    BUILT_IN_GROUPS,
    PermissionRefused,
    actor_may_change_group,
    actor_may_change_user,
    api_key_create,
    api_key_delete,
    api_key_set_enabled,
    group_create,
    group_delete,
    group_members_add,
    group_members_remove,
    group_policy_of,
    group_update,
    profile_for_user,
    user_by_username,
    user_create,
    user_delete,
    user_groups_set,
    user_logout_everywhere,
    user_password_reset,
    user_update,
)
from apps.common.errors import ApplicationError
from apps.console.forms import (
    ApiKeyForm,
    AuditFilterForm,
    GroupAccessForm,
    GroupForm,
    MemberAddForm,
    PasswordResetForm,
    ProfileForm,
    UserCreateForm,
    UserForm,
)
from apps.console.views.base import audited, page_of
from apps.images.selectors import images_launchable_by
from apps.images.services import group_workspaces_set
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.selectors import persistent_profiles_of, sessions_of

# Users


@console_admin_required
def user_list(request):
    search = request.GET.get("q", "").strip()[:150]
    page = page_of(request, users_for_console(search=search).prefetch_related("groups"))
    live = dict(
        Session.objects.filter(owner__in=[user.pk for user in page], status__in=SessionStatus.LIVE)
        .values_list("owner")
        .annotate(count=Count("id"))
    )
    for user in page:  # counted for this page's users only, not the whole table
        user.live_sessions = live.get(user.pk, 0)
    return render(request, "console/user_list.html", {"page": page, "q": search})


@console_admin_required
def user_new(request):
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        _groups_check(request, None, data["groups"])
        try:
            created = user_create(
                username=data["username"],
                password=data["password"],
                generate_password=not data["password"],
                fields=form.profile_fields(),
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            user_groups_set(user=created.user, groups=data["groups"])
            audited(request, "user.create", created.user.username, groups=[g.name for g in data["groups"]])
            context = {"user_shown": created.user, "password": created.password}
            return render(request, "console/user_created.html", context)
    return render(request, "console/user_form.html", {"form": form, "creating": True, **_group_choices(form)})


def _groups_check(request, user, groups) -> None:
    """Refuse (403) before anything is written when the admin may not change a group joined or left."""
    current = set(user.groups.exclude(name=ALL_USERS_GROUP)) if user else set()
    for group in set(groups) ^ current:
        _group(request, group.pk)


def _group_choices(form) -> dict:
    """The groups checklist, drawn by the page itself: hundreds of groups through Django's widget
    templates would cost most of a second."""
    chosen = {str(getattr(value, "pk", value)) for value in form["groups"].value() or []}
    return {"group_choices": Group.objects.exclude(name=ALL_USERS_GROUP).order_by("name"), "chosen_groups": chosen}


def _user(request, user_id: int):
    """The user a console page changes, if the admin may change them."""
    user = get_object_or_404(get_user_model().objects.select_related("profile"), pk=user_id)
    try:
        actor_may_change_user(actor=request.user, user=user)
    except PermissionRefused as error:
        raise PermissionDenied(error.message) from None
    return user


def _group(request, group_id: int) -> Group:
    group = get_object_or_404(Group, pk=group_id)
    try:
        actor_may_change_group(actor=request.user, group=group)
    except PermissionRefused as error:
        raise PermissionDenied(error.message) from None
    return group


@console_admin_required
def user_edit(request, user_id: int):
    user = _user(request, user_id)
    profile = profile_for_user(user=user)
    initial = {
        **{name: getattr(user, name) for name in ("first_name", "last_name", "email")},
        **{name: getattr(profile, name) for name in ("organization", "phone", "locked")},
        "disabled": not user.is_active,
        "groups": user.groups.exclude(name=ALL_USERS_GROUP),
    }
    form = UserForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        _groups_check(request, user, form.cleaned_data["groups"])
        try:
            user_update(user=user, fields=form.profile_fields())
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            user_groups_set(user=user, groups=form.cleaned_data["groups"])
            audited(request, "user.update", user.username, changed=sorted(form.changed_data))
            messages.success(request, f"Saved {user.username}.")
            return redirect("console:user-edit", user_id=user.pk)
    context = {
        "form": form,
        "user_shown": user,
        "sessions": sessions_of(user).filter(status__in=SessionStatus.LIVE),
        "policy": user_policy(user),
        "password_form": PasswordResetForm(),
        **_group_choices(form),
    }
    return render(request, "console/user_form.html", context)


@console_admin_required
@require_POST
def user_password(request, user_id: int):
    user = _user(request, user_id)
    form = PasswordResetForm(request.POST)
    form.is_valid()
    try:
        generated = user_password_reset(user=user, password=form.cleaned_data.get("password", ""))
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("console:user-edit", user_id=user.pk)
    audited(request, "user.password_reset", user.username)
    return render(request, "console/user_created.html", {"user_shown": user, "password": generated, "reset": True})


@console_admin_required
@require_POST
def user_logout(request, user_id: int):
    user = _user(request, user_id)
    ended = user_logout_everywhere(user=user)
    audited(request, "user.logout_everywhere", user.username)
    messages.success(request, f"{user.username} is logged out everywhere ({ended} web logins ended).")
    return redirect("console:user-edit", user_id=user.pk)


@console_admin_required
def user_delete_view(request, user_id: int):
    """GET: a confirmation naming the sessions that will be destroyed; POST: delete."""
    user = _user(request, user_id)
    if user.pk == request.user.pk:
        messages.error(request, "You cannot delete your own account here.")
        return redirect("console:user-edit", user_id=user.pk)
    if request.method == "POST":
        deleted_now = user_delete(user=user)
        audited(request, "user.delete", user.username)
        done = "deleted" if deleted_now else "disabled, and deleted once their sessions are gone"
        messages.success(request, f"{user.username} is {done}.")
        return redirect("console:users")
    sessions = sessions_of(user).filter(status__in=SessionStatus.LIVE)
    return render(request, "console/user_delete.html", {"user_shown": user, "sessions": sessions})


# Groups


@console_admin_required
def group_list(request):
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = group_create(**form.cleaned_data)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            audited(request, "group.create", group.name)
            return redirect("console:group-edit", group_id=group.pk)
    page = page_of(request, groups_for_console())
    counts = group_member_counts([group.pk for group in page])
    for group in page:
        group.member_count = counts.get(group.pk, 0)
    return render(request, "console/group_list.html", {"page": page, "form": form})


@console_admin_required
def group_edit(request, group_id: int):
    group = _group(request, group_id)
    policy = group_policy_of(group)
    posted = request.POST if request.method == "POST" else None
    form = GroupForm(
        posted,
        initial={
            "name": group.name,
            "priority": policy.priority,
            "description": policy.description,
            "volume_mappings": policy.volume_mappings,
        },
    )
    access = GroupAccessForm(
        posted,
        settings=policy.settings,
        initial={"all_workspaces": policy.all_workspaces, "workspaces": group.workspaces.all()},
    )
    if posted is not None and form.is_valid() and access.is_valid():
        try:
            group_update(
                group=group,
                **form.cleaned_data,
                all_workspaces=access.cleaned_data["all_workspaces"],
                settings=access.settings(),
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            group_workspaces_set(group=group, images=access.cleaned_data["workspaces"])
            audited(request, "group.update", group.name, settings=policy.settings)
            messages.success(request, f"Saved the group {group.name}.")
            return redirect("console:group-edit", group_id=group.pk)
    context = {
        "group": group,
        "built_in": group.name in BUILT_IN_GROUPS,
        "form": form,
        "access": access,
        "members": page_of(request, group.user_set.order_by("username")),
        "member_form": MemberAddForm(),
        "settings": GROUP_SETTINGS,
    }
    return render(request, "console/group_form.html", context)


@console_admin_required
@require_POST
def group_members(request, group_id: int):
    """Add a member by username, or remove the one named in `remove`."""
    group = _group(request, group_id)
    try:
        if "remove" in request.POST:
            user = user_by_username(username=request.POST["remove"])
            group_members_remove(group=group, users=[user])
            audited(request, "group.member_remove", group.name, username=user.username)
        else:
            user = user_by_username(username=request.POST.get("username", "").strip())
            group_members_add(group=group, users=[user])
            audited(request, "group.member_add", group.name, username=user.username)
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("console:group-edit", group_id=group.pk)


@console_admin_required
@require_POST
def group_delete_view(request, group_id: int):
    group = _group(request, group_id)
    try:
        group_delete(group=group)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("console:group-edit", group_id=group.pk)
    audited(request, "group.delete", group.name)
    messages.success(request, f"Deleted the group {group.name}.")
    return redirect("console:groups")


# API keys


@console_admin_required
def api_key_list(request):
    form = ApiKeyForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            owner = user_by_username(username=data["owner"]) if data["owner"] else None
            issued = api_key_create(
                name=data["name"], owner=owner, permissions=data["permissions"], expires_at=data["expires_at"]
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            audited(request, "api_key.create", issued.api_key.name, permissions=data["permissions"])
            form = ApiKeyForm()
    keys = ApiKey.objects.select_related("owner").order_by("name")
    context = {"keys": keys, "form": form, "issued": issued, "permissions": ApiPermission.choices}
    return render(request, "console/api_keys.html", context)


@console_admin_required
@require_POST
def api_key_action(request, key_id):
    """Enable, disable or delete a key (`action` in the form)."""
    api_key = get_object_or_404(ApiKey, pk=key_id)
    action = request.POST.get("action")
    if action == "delete":
        api_key_delete(api_key=api_key)
    elif action in ("enable", "disable"):
        api_key_set_enabled(api_key=api_key, enabled=action == "enable")
    else:
        messages.error(request, "Choose enable, disable or delete.")
        return redirect("console:api-keys")
    audited(request, f"api_key.{action}", api_key.name)
    messages.success(request, f"API key {api_key.name}: {action}d.")
    return redirect("console:api-keys")


# Audit trail


@console_admin_required
def audit_list(request):
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    filters = {name: value for name, value in filters.items() if value}
    events = audit_events(**filters)
    context = {
        "form": form,
        "page": page_of(request, events),
        "query_suffix": f"&{urlencode(filters)}" if filters else "",
    }
    return render(request, "console/audit.html", context)


# Every user's own profile


@login_required
def profile(request):
    """Language, time zone, theme, extra environment and default workspace; and the password."""
    own = profile_for_user(user=request.user)
    launchable = images_launchable_by(request.user)
    saving_password = request.method == "POST" and "change_password" in request.POST
    form = ProfileForm(
        request.POST if request.method == "POST" and not saving_password else None, instance=own, launchable=launchable
    )
    password_form = PasswordChangeForm(request.user, request.POST if saving_password else None)
    if saving_password and password_form.is_valid():
        password_form.save()
        update_session_auth_hash(request, password_form.user)
        messages.success(request, "Your password is changed.")
        return redirect("profile")
    if request.method == "POST" and not saving_password and form.is_valid():
        form.save()
        messages.success(request, "Saved: new sessions use these settings.")
        return redirect("profile")
    context = {"form": form, "password_form": password_form, "homes": persistent_profiles_of(request.user)}
    return render(request, "console/profile.html", context)
