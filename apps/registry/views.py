import json
import mimetypes
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.decorators import console_admin_required
from apps.common.errors import ApplicationError
from apps.common.views import action_then_redirect
from apps.registry.forms import RegistryAddForm, WorkspaceDefinitionForm
from apps.registry.models import Registry, RegistryWorkspace
from apps.registry.parser import DEFAULT_SCHEMA_VERSION
from apps.registry.selectors import (
    FLAG_EXPLANATIONS,
    registry_space_estimate,
    store_categories,
    store_workspaces,
)
from apps.registry.services import (
    registries_refresh_stale,
    registry_add,
    registry_remove,
    registry_restore_first_party,
    registry_set_auto_update,
    registry_update,
    registry_workspace_apply_update,
    registry_workspace_install,
    workspace_definition_validate,
)
from apps.registry.site import registry_site_collect, workspace_sha

# Opening the store refreshes registries with automatic updates at most this often.
STORE_REFRESH_AFTER = timedelta(minutes=5)


@console_admin_required
def store(request):
    workspaces = RegistryWorkspace.objects.select_related("installed_image")
    registries = Registry.objects.prefetch_related(Prefetch("workspaces", queryset=workspaces))
    registries_refresh_stale(registries=registries, older_than=STORE_REFRESH_AFTER)
    tiles = store_workspaces(registries)
    context = {
        "registries": registries,
        "tiles": tiles,
        "categories": store_categories(tiles),
        "space": registry_space_estimate().as_dict(),
        "add_form": RegistryAddForm(),
        "has_first_party": any(registry.is_first_party for registry in registries),
    }
    return render(request, "registry/store.html", context)


@console_admin_required
@require_POST
def registry_add_view(request):
    form = RegistryAddForm(request.POST)
    if form.is_valid():
        return action_then_redirect(
            request,
            lambda: registry_add(url=form.cleaned_data["url"]),
            done=lambda registry: _update_summary(registry, verb="Added"),
            to="registry:store",
        )
    messages.error(request, "Enter the registry's URL.")
    return redirect("registry:store")


@console_admin_required
@require_POST
def registry_update_view(request, registry_id):
    registry = get_object_or_404(Registry, pk=registry_id)
    return action_then_redirect(
        request,
        lambda: registry_update(registry=registry),
        done=lambda updated: _update_summary(updated, verb="Updated"),
        failed=lambda message: f"{registry}: {message} The last good list is kept.",
        to="registry:store",
    )


def _update_summary(registry: Registry, *, verb: str) -> str:
    summary = f"{verb} {registry.name}: {registry.workspaces.count()} workspaces."
    if registry.entry_errors:
        summary += f" {len(registry.entry_errors)} invalid entries were skipped (see the registry's details)."
    return summary


@console_admin_required
@require_POST
def registry_remove_view(request, registry_id):
    registry = get_object_or_404(Registry, pk=registry_id)
    registry_remove(registry=registry)
    messages.success(request, f"Removed the registry {registry}. Workspaces installed from it stay installed.")
    return redirect("registry:store")


@console_admin_required
@require_POST
def registry_auto_update_view(request, registry_id):
    registry = get_object_or_404(Registry, pk=registry_id)
    registry_set_auto_update(registry=registry, enabled=request.POST.get("enabled") == "on")
    state = "on" if registry.auto_update else "off"
    messages.success(request, f"Automatic updates of {registry} are {state}.")
    return redirect("registry:store")


@console_admin_required
@require_POST
def registry_restore_first_party_view(request):
    registry = registry_restore_first_party()
    messages.success(request, f"The first-party registry {registry.url} is back; its list is being fetched.")
    return redirect("registry:store")


def _review_of(request) -> dict:
    """What the store's Install / Apply update form says the admin reviewed and confirmed."""
    return {
        "reviewed_digest": request.POST.get("reviewed", ""),
        "confirm_flags": request.POST.get("confirm_flags") == "on",
    }


@console_admin_required
@require_POST
def workspace_install_view(request, workspace_id):
    workspace = get_object_or_404(RegistryWorkspace.objects.select_related("registry"), pk=workspace_id)
    return action_then_redirect(
        request,
        lambda: registry_workspace_install(workspace=workspace, **_review_of(request)),
        done=lambda image: f"Installed {image.friendly_name}; the agents are pulling {image.docker_image}.",
        to="registry:store",
    )


@console_admin_required
@require_POST
def workspace_apply_update_view(request, workspace_id):
    workspace = get_object_or_404(
        RegistryWorkspace.objects.select_related("registry", "installed_image"), pk=workspace_id
    )
    return action_then_redirect(
        request,
        lambda: registry_workspace_apply_update(workspace=workspace, **_review_of(request)),
        done=f"{workspace.friendly_name} now follows the registry's latest definition.",
        to="registry:store",
    )


@console_admin_required
def workspace_edit(request, workspace_id):
    """Review (and change) the full definition, including run_config and exec_config, then install."""
    workspace = get_object_or_404(RegistryWorkspace.objects.select_related("registry"), pk=workspace_id)
    form = WorkspaceDefinitionForm(
        request.POST or None,
        initial={
            **WorkspaceDefinitionForm.initial_from(workspace.definition),
            "reviewed": workspace_sha(workspace.definition),
        },
    )
    flags = workspace.flags
    if request.method == "POST" and form.is_valid():
        try:
            definition = workspace_definition_validate(form.definition_over(workspace.definition))
            registry_workspace_install(
                workspace=workspace,
                reviewed_digest=form.cleaned_data["reviewed"],
                definition=definition,
                confirm_flags=form.cleaned_data["confirm_flags"],
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Installed {definition['friendly_name']}.")
            return redirect("registry:store")
    context = {
        "workspace": workspace,
        "form": form,
        "flags": flags,
        "definition_json": json.dumps(workspace.definition, indent=2),
    }
    return render(request, "registry/workspace_edit.html", context)


@console_admin_required
def flag_explanations(request):
    return render(request, "registry/flags.html", {"explanations": FLAG_EXPLANATIONS})


@console_admin_required
@require_GET
def space_estimate(request):
    return JsonResponse(registry_space_estimate().as_dict())


@require_GET
def first_party_versions(request):
    return HttpResponse(f"{DEFAULT_SCHEMA_VERSION}\n", content_type="text/plain")


@require_GET
def first_party_list(request):
    site = registry_site_collect(settings.FIRST_PARTY_REGISTRY_DIR)
    return JsonResponse(site.listing)


@require_GET
def first_party_icon(request, name):
    icon = registry_site_collect(settings.FIRST_PARTY_REGISTRY_DIR).icons.get(name)
    if icon is None:
        raise Http404("No such icon.")
    content_type = mimetypes.guess_type(icon.name)[0] or "application/octet-stream"
    return FileResponse(icon.open("rb"), content_type=content_type)
