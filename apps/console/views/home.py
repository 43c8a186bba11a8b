"""The console's home: one screen of how the platform is doing, with a link to each section."""

from __future__ import annotations

import platform
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import django
from django.conf import settings
from django.db import connection
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone

from apps.accounts.decorators import console_admin_required
from apps.agents.choices import AgentStatus
from apps.agents.models import Agent
from apps.agents.selectors import online_allocation
from apps.common.installation import installation_id
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
    allocated, capacity = online_allocation()
    failures = Session.objects.filter(status=SessionStatus.ERROR, created_at__gte=now - timedelta(hours=1))
    context = {
        "agents": agents,
        "cores": (allocated.cores, capacity.cores),
        "memory": (allocated.memory, capacity.memory),
        "live_sessions": Session.objects.filter(status__in=SessionStatus.LIVE).count(),
        "started_today": Session.objects.filter(
            started_at__gte=timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        ).count(),
        "failure_count": failures.count(),
        "failures": failures.select_related("owner", "image", "agent").order_by("-created_at")[:RECENT_FAILURES],
        "registries": Registry.objects.filter(Q(last_fetched_at__isnull=True) | ~Q(last_error="")).order_by("name"),
    }
    return render(request, "console/home.html", context)


@console_admin_required
def system_info(request):
    """What runs where: version, installation id, database, broker, channel layer, agents' engines."""
    database = connection.settings_dict
    context = {
        "version": settings.VERSION,
        "installation_id": installation_id(),
        "database": f"{connection.vendor} {database['NAME']}" + (f" on {database['HOST']}" if database["HOST"] else ""),
        "broker": _without_password(settings.CELERY_BROKER_URL),
        "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1],
        "python": platform.python_version(),
        "django": django.get_version(),
        "agents": Agent.objects.order_by("hostname").only(
            "hostname", "status", "docker_version", "architecture", "last_checkin_at"
        ),
    }
    return render(request, "console/system.html", context)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    return urlunsplit(parts)
