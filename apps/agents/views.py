from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.decorators import console_admin_required
from apps.accounts.services import audit_record
from apps.accounts.throttle import client_address
from apps.agents.choices import AgentStatus
from apps.agents.forms import AgentSettingsForm, ZoneForm
from apps.agents.models import Agent, Zone
from apps.agents.selectors import agent_usage, agents_page, manager_token_overview
from apps.agents.services import (
    agent_approve,
    agent_image_retry,
    agent_update_settings,
    manager_token_rotate,
    manager_token_write,
)
from apps.agents.zones import zone_delete, zone_save
from apps.common.errors import ApplicationError
from apps.common.installation import installation_id
from apps.common.runtime_settings import runtime_setting
from apps.common.views import action_then_redirect


@console_admin_required
def agent_list(request):
    """A page of agents (search, status); the script refreshes that page on each push."""
    filters = {name: request.GET.get(name, "").strip() for name in ("q", "status")}
    page = agents_page(number=request.GET.get("page"), search=filters["q"], status=filters["status"])
    context = {
        "usages": [agent_usage(agent).as_dict() for agent in page],
        "page": page,
        "filters": filters,
        "statuses": AgentStatus.choices,
        "query_suffix": f"&{urlencode({'status': filters['status']})}" if filters["status"] else "",
        "installation_id": installation_id(),
    }
    return render(request, "agents/agent_list.html", context)


@console_admin_required
def agent_detail(request, agent_id):
    agent = get_object_or_404(Agent.objects.select_related("zone"), pk=agent_id)
    form = AgentSettingsForm(request.POST or None, instance=agent)
    if request.method == "POST" and form.is_valid():
        try:
            agent_update_settings(agent=Agent.objects.get(pk=agent.pk), **form.cleaned_data)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Saved the settings of {agent.hostname}.")
            return redirect("agents:detail", agent_id=agent.pk)
    context = {
        "agent": agent,
        "usage": agent_usage(agent).as_dict(),
        "form": form,
        "gpus": agent.gpu_devices.all(),
        "image_states": agent.image_states.all(),
    }
    return render(request, "agents/agent_detail.html", context)


@console_admin_required
@require_POST
def agent_image_retry_view(request, agent_id):
    """Pulls of an image stop after AGENT_IMAGE_PULL_ATTEMPTS failures until an admin asks again."""
    agent = get_object_or_404(Agent, pk=agent_id)
    reference = request.POST.get("reference", "")
    agent_image_retry(agent=agent, reference=reference)
    messages.success(request, f"{agent.hostname} will pull {reference} again at the next image sync.")
    return redirect(reverse("agents:detail", kwargs={"agent_id": agent.pk}) + "#images")


@console_admin_required
@require_POST
def agent_approve_view(request, agent_id):
    """Admins accept an agent that enrolled with the manager token, at the address they confirm."""
    agent = get_object_or_404(Agent, pk=agent_id)
    return action_then_redirect(
        request,
        lambda: agent_approve(agent=agent, address=request.POST.get("address", "").strip() or None),
        done=lambda approved: (
            f"Approved {approved.hostname} at {approved.address}; it gets sessions from its next check-in."
        ),
        to="agents:detail",
        agent_id=agent.pk,
    )


@console_admin_required
def dashboard(request):
    return render(request, "agents/dashboard.html", {"agents": Agent.objects.order_by("hostname").only("hostname")})


@console_admin_required
def manager_token_page(request):
    """The current token's age, the retiring ones with their grace end, and which agents present which."""
    return render(request, "agents/manager_token.html", manager_token_overview())


@console_admin_required
@require_POST
def manager_token_rotate_view(request):
    """A new token, shown once. Where the manager shares a machine with its agent (`make up`), the
    agent's token file gets it too, and the agent uses it from its next check-in."""
    grace_minutes = runtime_setting("MANAGER_TOKEN_GRACE_MINUTES")
    token = manager_token_rotate(grace=timedelta(minutes=grace_minutes))
    token_file = settings.MANAGER_TOKEN_FILE
    if token_file:
        manager_token_write(Path(token_file), token)
    audit_record(
        action="console.manager_token.rotate",
        actor=request.user,
        address=client_address(request.META),
        details={"grace_minutes": grace_minutes},
    )
    context = {"token": token, "grace_minutes": grace_minutes, "token_file": token_file}
    return render(request, "agents/manager_token_new.html", context)


@console_admin_required
def zone_list(request):
    """Zones with their agents and workspaces; a new zone. Saved through agents.zones."""
    form = ZoneForm(request.POST or None)
    if request.method == "POST" and _zone_saved(request, form, Zone()):
        return redirect("agents:zones")
    zones = Zone.objects.prefetch_related("agents").annotate(workspaces=Count("image", filter=Q(image__archived=False)))
    return render(request, "agents/zones.html", {"zones": zones, "form": form})


@console_admin_required
def zone_edit(request, zone_id):
    zone = get_object_or_404(Zone, pk=zone_id)
    form = ZoneForm(request.POST or None, instance=Zone.objects.get(pk=zone.pk))
    if request.method == "POST" and _zone_saved(request, form, zone):
        return redirect("agents:zones")
    return render(request, "agents/zone_edit.html", {"zone": zone, "form": form})


def _zone_saved(request, form: ZoneForm, zone: Zone) -> bool:
    if not form.is_valid():
        return False
    try:
        zone_save(zone=zone, **form.cleaned_data)
    except ApplicationError as error:
        form.add_error(None, error.message)
        return False
    messages.success(request, f"Saved the zone {zone.name}.")
    return True


@console_admin_required
@require_POST
def zone_delete_view(request, zone_id):
    zone = get_object_or_404(Zone, pk=zone_id)
    return action_then_redirect(
        request, lambda: zone_delete(zone=zone), done=f"Deleted the zone {zone.name}.", to="agents:zones"
    )
