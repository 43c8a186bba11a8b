"""Persistent profiles: admins list and reset anyone's (console), users reset their own (My profile)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.decorators import console_admin_required
from apps.common.errors import ApplicationError
from apps.console.views.base import audited, page_of
from apps.sessions.models import PersistentProfile
from apps.sessions.profiles import persistent_profile_reset
from apps.sessions.selectors import persistent_profiles_for_console


@console_admin_required
def profile_list(request):
    search = request.GET.get("q", "").strip()[:150]
    page = page_of(request, persistent_profiles_for_console(search=search))
    return render(request, "console/profile_list.html", {"page": page, "search": search})


@console_admin_required
@require_POST
def profile_reset(request, profile_id):
    profile = get_object_or_404(PersistentProfile.objects.select_related("owner", "image"), pk=profile_id)
    if _reset(request, profile):
        audited(request, "profile.reset", profile.source, owner=profile.owner.username, workspace=str(profile.image))
    return redirect("console:profiles")


@login_required
@require_POST
def own_profile_reset(request, profile_id):
    """A user's reset of one of their own profiles; anyone else's is not found."""
    profile = get_object_or_404(PersistentProfile.objects.select_related("image"), pk=profile_id, owner=request.user)
    _reset(request, profile)
    return redirect("profile")


def _reset(request, profile: PersistentProfile) -> bool:
    try:
        persistent_profile_reset(profile=profile)
    except ApplicationError as error:
        messages.error(request, error.message)
        return False
    messages.success(request, f"The saved home for '{profile.image}' is deleted; the next session starts fresh.")
    return True
