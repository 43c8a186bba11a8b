"""Reads of the agents app: capacity views, image plans and chart series."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import BigIntegerField, Case, F, FloatField, Prefetch, Q, QuerySet, Sum, When
from django.utils import timezone

from apps.agents.capacity import AgentCapacity, Resources, allocation_summary
from apps.agents.choices import AgentImageStatus, AgentStatus
from apps.agents.image_sync import ImageSyncPlan
from apps.agents.models import Agent, AgentImage, AgentStat, AgentStatHour, ManagerToken
from apps.common.units import GIB
from apps.images.models import Image


def agent_capacity(agent: Agent) -> AgentCapacity:
    return AgentCapacity(
        physical=Resources(cores=agent.cores, memory=agent.memory, gpus=agent.gpus),
        overrides=Resources(cores=agent.cores_override, memory=agent.memory_override, gpus=agent.gpus_override),
    )


@dataclass(frozen=True)
class AgentUsage:
    """An agent's bars: used (last check-in), allocated (reservations) and capacity (overrides applied)."""

    agent: Agent
    capacity: Resources
    allocated: Resources
    cores_used: float
    sessions: int

    @property
    def cpu_caption(self) -> str:
        return allocation_summary(self.allocated.cores, self.capacity.cores, "CPUs")

    @property
    def memory_caption(self) -> str:
        return allocation_summary(round(self.allocated.memory / GIB, 1), round(self.capacity.memory / GIB, 1), "GiB")

    def as_dict(self) -> dict:
        agent = self.agent
        return {
            "id": agent.hex_id,
            "hostname": agent.hostname,
            "status": agent.status,
            "enabled": agent.enabled,
            "zone": agent.zone.name if agent.zone else None,
            "sessions": self.sessions,
            "last_checkin_at": agent.last_checkin_at.isoformat() if agent.last_checkin_at else None,
            "cpu": {
                "used": round(self.cores_used, 2),
                "allocated": self.allocated.cores,
                "capacity": self.capacity.cores,
                "caption": self.cpu_caption,
            },
            "memory": {
                "used": agent.memory_used,
                "allocated": self.allocated.memory,
                "capacity": self.capacity.memory,
                "caption": self.memory_caption,
            },
            "gpus": {"allocated": self.allocated.gpus, "capacity": self.capacity.gpus},
        }


def online_allocation() -> tuple[Resources, Resources]:
    """(allocated, capacity) summed over the online agents, overrides applied: one aggregate query."""

    def capacity(name: str, output):
        override = f"{name}_override"
        return Sum(Case(When(**{f"{override}__gt": 0}, then=F(override)), default=F(name), output_field=output))

    totals = Agent.objects.filter(status=AgentStatus.ONLINE).aggregate(
        allocated_cores=Sum("reserved_cores"),
        allocated_memory=Sum("reserved_memory"),
        cores=capacity("cores", FloatField()),
        memory=capacity("memory", BigIntegerField()),
    )
    totals = {name: value or 0 for name, value in totals.items()}
    return (
        Resources(cores=totals["allocated_cores"], memory=totals["allocated_memory"]),
        Resources(cores=totals["cores"], memory=totals["memory"]),
    )


def agent_reserved(agent: Agent) -> Resources:
    return Resources(cores=agent.reserved_cores, memory=agent.reserved_memory, gpus=agent.reserved_gpus)


def agent_usage(agent: Agent) -> AgentUsage:
    return AgentUsage(
        agent=agent,
        capacity=agent_capacity(agent).capacity,
        allocated=agent_reserved(agent),
        cores_used=agent.cores * agent.cpu_percent / 100,
        sessions=agent.reserved_sessions,
    )


# What an agent reports about its engine that lists never show: left unread where agents are
# listed (a thousand agents' image lists and sizes are most of their rows' bytes).
AGENT_REPORT_FIELDS = ("images_present", "image_sizes", "networks", "session_containers")


AGENTS_PAGE_SIZE = 100


def agents_for_console() -> QuerySet[Agent]:
    return Agent.objects.select_related("zone").defer(*AGENT_REPORT_FIELDS).order_by("hostname")


def agents_page(*, number: str | int | None, search: str = "", status: str = "") -> Page:
    """One page of the agents list (AGENTS_PAGE_SIZE, by hostname): `search` in the hostname or
    address, `status` one of AgentStatus. A page number past the end gives the last page."""
    agents = agents_for_console()
    if search:
        agents = agents.filter(Q(hostname__icontains=search) | Q(address__icontains=search))
    if status:
        agents = agents.filter(status=status)
    return Paginator(agents, AGENTS_PAGE_SIZE).get_page(number)


def images_defined_for(agent: Agent) -> QuerySet[Image]:
    """Enabled images this agent may run, by their zone and agent restrictions."""
    zone_ok = Q(restrict_to_zone__isnull=True) | Q(restrict_to_zone=agent.zone_id)
    agent_ok = Q(restrict_to_agent__isnull=True) | Q(restrict_to_agent=agent.pk)
    return Image.objects.filter(zone_ok, agent_ok, enabled=True)


def image_sync_plan(agent: Agent) -> ImageSyncPlan:
    keep = sorted(set(images_defined_for(agent).values_list("docker_image", flat=True)))
    states = {state.reference: state for state in AgentImage.objects.filter(agent=agent)}
    gave_up = {
        reference
        for reference, state in states.items()
        if state.status == AgentImageStatus.FAILED and state.failed_attempts >= settings.AGENT_IMAGE_PULL_ATTEMPTS
    }
    pull = [reference for reference in keep if reference not in agent.images_present and reference not in gave_up]
    return ImageSyncPlan(pull=pull, keep=keep, managed=sorted(set(states) | set(keep)), prune_mode=agent.prune_mode)


def agents_online() -> QuerySet[Agent]:
    return Agent.objects.filter(status=AgentStatus.ONLINE, approved=True)


def agents_taking_sessions() -> QuerySet[Agent]:
    """Agents a new session may be placed on: online, approved and not drained."""
    return agents_online().filter(enabled=True)


HISTORY_POINTS = 240  # a chart's width in points: more would not be seen, only sent


def agent_stat_series(agent: Agent, *, since: datetime, now: datetime | None = None) -> dict:
    """History for the dashboard charts, averaged into at most HISTORY_POINTS equal buckets: each
    bucket's start, CPU %, memory and disk used (bytes), and the latest memory and disk totals,
    which the charts use as their axes' top. Hours already averaged (AgentStatHour) are read as
    one row each, the rest as check-ins: a week is 168 rows and a day's check-ins, not 20,160."""
    now = now or timezone.now()
    bucket = max((now - since).total_seconds() / HISTORY_POINTS, 1)
    hourly = AgentStatHour.objects.filter(agent=agent, hour__gte=since).order_by("hour")
    columns = ("cpu_percent", "memory_used", "disk_used", "memory_total", "disk_total")
    hours = list(hourly.values_list("hour", "samples", *columns))
    detail_since = hours[-1][0] + timedelta(hours=1) if hours else since
    check_ins = AgentStat.objects.filter(agent=agent, recorded_at__gte=detail_since).order_by("recorded_at")
    samples = [*hours, *((row[0], 1, *row[1:]) for row in check_ins.values_list("recorded_at", *columns).iterator())]
    sums: dict[int, list[float]] = {}
    memory_total = disk_total = 0
    for recorded_at, weight, cpu, memory, disk, row_memory_total, row_disk_total in samples:
        memory_total, disk_total = row_memory_total, row_disk_total  # the axes top at the latest
        index = min(max(int((recorded_at - since).total_seconds() // bucket), 0), HISTORY_POINTS - 1)
        totals = sums.setdefault(index, [0, 0, 0, 0])
        totals[0] += weight
        totals[1] += cpu * weight
        totals[2] += memory * weight
        totals[3] += disk * weight
    series = {"timestamps": [], "cpu_percent": [], "memory_used": [], "disk_used": []}
    for index, (count, cpu, memory, disk) in sums.items():
        series["timestamps"].append((since + timedelta(seconds=index * bucket)).isoformat())
        series["cpu_percent"].append(round(cpu / count, 1))
        series["memory_used"].append(round(memory / count))
        series["disk_used"].append(round(disk / count))
    return {**series, "bucket_seconds": round(bucket), "memory_total": memory_total, "disk_total": disk_total}


def manager_token_overview(*, now: datetime | None = None) -> dict:
    """The manager token page: the current token, those in their grace window (with when it
    ends), and the agents whose last check-in carried each, or a token no longer valid."""
    now = now or timezone.now()
    valid = ManagerToken.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    tokens = list(valid.prefetch_related(Prefetch("agents", queryset=Agent.objects.order_by("hostname"))))
    return {
        "current": next((token for token in tokens if token.expires_at is None), None),
        "retiring": [token for token in tokens if token.expires_at is not None],
        "stale_agents": Agent.objects.exclude(manager_token__in=[token.pk for token in tokens]).order_by("hostname"),
    }
