from django.shortcuts import render

from apps.accounts.decorators import console_admin_required
from apps.agents.models import Agent


@console_admin_required
def agent_list(request):
    agents = Agent.objects.select_related("zone").order_by("hostname")
    return render(request, "agents/agent_list.html", {"agents": agents})
