"""Console pages for workspaces: list, create by hand, edit every field, clone, enable or disable,
delete (archived when sessions of it are on record). Admins only; each write is audited."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.decorators import console_admin_required
from apps.common.errors import ApplicationError
from apps.console.forms import WorkspaceForm
from apps.console.views.base import audited, page_of
from apps.images.models import Image
from apps.images.selectors import images_for_console
from apps.images.services import image_clone, image_delete, image_save, image_set_enabled
from apps.registry.flags import workspace_flags
from apps.sessions.choices import SessionStatus


def _workspace(image_id) -> Image:
    return get_object_or_404(Image, pk=image_id, archived=False)


@console_admin_required
def workspace_list(request):
    live = Count("sessions", filter=Q(sessions__status__in=SessionStatus.LIVE))
    page = page_of(request, images_for_console().annotate(live_sessions=live))
    for image in page:
        image.flags = workspace_flags(
            run_config=image.run_config or {},
            exec_config=image.exec_config or {},
            volume_mappings=image.volume_mappings or [],
        )
    return render(request, "console/workspace_list.html", {"page": page})


@console_admin_required
def workspace_edit(request, image_id=None):
    """Create (without `image_id`) or edit a workspace; its security flags are shown as the registry
    store shows them."""
    image = _workspace(image_id) if image_id else Image()
    form = WorkspaceForm(request.POST or None, request.FILES or None, instance=image)
    if request.method == "POST" and form.is_valid():
        try:
            image = image_save(image=form.save(commit=False), icon=form.icon_bytes())
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            audited(request, "workspace.update" if image_id else "workspace.create", image.friendly_name)
            messages.success(request, f"Saved the workspace {image.friendly_name}.")
            return redirect("console:workspace-edit", image_id=image.pk)
    flags = workspace_flags(
        run_config=image.run_config or {},
        exec_config=image.exec_config or {},
        volume_mappings=image.volume_mappings or [],
    )
    context = {"form": form, "workspace": image, "flags": flags, "creating": image_id is None}
    return render(request, "console/workspace_form.html", context)


@console_admin_required
@require_POST
def workspace_clone(request, image_id):
    copy = image_clone(image=_workspace(image_id))
    audited(request, "workspace.clone", copy.friendly_name)
    messages.success(request, f"Cloned as {copy.friendly_name}, disabled until you enable it.")
    return redirect("console:workspace-edit", image_id=copy.pk)


@console_admin_required
@require_POST
def workspace_enabled(request, image_id):
    image = _workspace(image_id)
    enabled = request.POST.get("enabled") == "on"
    image_set_enabled(image=image, enabled=enabled)
    audited(request, "workspace.enable" if enabled else "workspace.disable", image.friendly_name)
    messages.success(request, f"{image.friendly_name} is {'enabled' if enabled else 'disabled'}.")
    return redirect("console:workspaces")


@console_admin_required
def workspace_delete(request, image_id):
    """GET: a confirmation naming the live sessions that will be destroyed; POST: delete or archive."""
    image = _workspace(image_id)
    live = image.sessions.filter(status__in=SessionStatus.LIVE).select_related("owner", "agent")
    if request.method == "POST":
        deleted = image_delete(image=image)
        audited(request, "workspace.delete" if deleted else "workspace.archive", image.friendly_name)
        done = "deleted" if deleted else "archived: hidden everywhere, its sessions' history kept"
        messages.success(request, f"{image.friendly_name} is {done}.")
        return redirect("console:workspaces")
    history = image.sessions.exists()
    return render(request, "console/workspace_delete.html", {"workspace": image, "sessions": live, "history": history})
