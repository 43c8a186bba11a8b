"""The console's home: one screen of how the platform is doing, with a link to each section."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone

from apps.accounts.decorators import console_admin_required
from apps.agents.choices import AgentStatus
from apps.agents.models import Agent
from apps.agents.selectors import agent_usage
from apps.registry.models import Registry
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session

RECENT_FAILURES = 10


@console_admin_required
def console_home(request):
    now = timezone.now()
    agents = Agent.objects.aggregate(
        online=Count("id", filter=Q(status=AgentStatus.ONLINE)),
        offline=Count("id", filter=Q(status=AgentStatus.OFFLINE)),
        pending=Count("id", filter=Q(status=AgentStatus.PENDING)),
    )
    usages = [agent_usage(agent) for agent in Agent.objects.filter(status=AgentStatus.ONLINE)]
    failures = Session.objects.filter(status=SessionStatus.ERROR, created_at__gte=now - timedelta(hours=1))
    context = {
        "agents": agents,
        "cores": (sum(u.allocated.cores for u in usages), sum(u.capacity.cores for u in usages)),
        "memory": (sum(u.allocated.memory for u in usages), sum(u.capacity.memory for u in usages)),
        "live_sessions": Session.objects.filter(status__in=SessionStatus.LIVE).count(),
        "started_today": Session.objects.filter(
            started_at__gte=timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        ).count(),
        "failure_count": failures.count(),
        "failures": failures.select_related("owner", "image", "agent").order_by("-created_at")[:RECENT_FAILURES],
        "registries": Registry.objects.filter(Q(last_fetched_at__isnull=True) | ~Q(last_error="")).order_by("name"),
    }
    return render(request, "console/home.html", context)
