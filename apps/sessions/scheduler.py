"""Choosing an agent for a session and claiming its capacity there, race-free."""

from __future__ import annotations

from django.conf import settings

from apps.agents.capacity import Resources, free, shortfall
from apps.agents.choices import AgentStatus
from apps.agents.models import Agent
from apps.agents.selectors import agent_capacity, agent_reserved
from apps.agents.services import AgentBusy, agent_reserve_capacity
from apps.common.errors import ApplicationError
from apps.images.models import Image


class NoCapacity(ApplicationError):
    """No agent can take the session now; the message says why."""


def image_request(image: Image) -> Resources:
    return Resources(cores=image.cores, memory=image.memory, gpus=image.gpus)


PLACEMENT_FIELDS = (
    "hostname",
    "address",
    "zone",
    "cores",
    "memory",
    "gpus",
    "cores_override",
    "memory_override",
    "gpus_override",
    "reserved_cores",
    "reserved_memory",
    "reserved_gpus",
    "images_present",
)


def candidate_agents(image: Image) -> list[Agent]:
    agents = Agent.objects.filter(status=AgentStatus.ONLINE, enabled=True, approved=True).only(*PLACEMENT_FIELDS)
    if image.restrict_to_zone_id:
        agents = agents.filter(zone_id=image.restrict_to_zone_id)
    if image.restrict_to_agent_id:
        agents = agents.filter(pk=image.restrict_to_agent_id)
    return list(agents)


def placement_order(agents: list[Agent], image: Image, policy: str) -> list[Agent]:
    """Agents that have the image first; then spread (most free cores first) or pack (fewest first)."""

    def free_cores_share(agent: Agent) -> float:
        resources = agent_capacity(agent)
        total = resources.capacity.cores
        return free(resources, agent_reserved(agent)).cores / total if total else 0

    direction = -1 if policy == "spread" else 1
    return sorted(
        agents,
        key=lambda agent: (image.docker_image not in agent.images_present, direction * free_cores_share(agent)),
    )


def where(image: Image) -> str:
    if image.restrict_to_agent_id:
        return f"agent '{image.restrict_to_agent}'"
    if image.restrict_to_zone_id:
        return f"agent in zone '{image.restrict_to_zone}'"
    return "agent"


def session_place(image: Image) -> Agent:
    """Claim the image's resources on the best agent; raise NoCapacity with the reasons if none fits."""
    request = image_request(image)
    agents = candidate_agents(image)
    if not agents:
        raise NoCapacity(f"No online, enabled {where(image)} is available for '{image.friendly_name}'.")
    reasons, busy = [], []
    for agent in placement_order(agents, image, settings.SCHEDULER_POLICY):
        # The snapshot rules out agents without locking them; a fitting one is re-checked under its lock.
        reason = shortfall(agent_capacity(agent), agent_reserved(agent), request)
        if reason is not None:
            reasons.append(f"'{agent.hostname}' {reason}")
            continue
        try:
            reason = agent_reserve_capacity(agent_id=agent.pk, request=request, wait=False)
        except AgentBusy:
            busy.append(agent)  # another request is claiming it right now: try the others first
            continue
        if reason is None:
            agent.refresh_from_db()
            return agent
        reasons.append(f"'{agent.hostname}' {reason}")
    for agent in busy:
        reason = agent_reserve_capacity(agent_id=agent.pk, request=request)
        if reason is None:
            agent.refresh_from_db()
            return agent
        reasons.append(f"'{agent.hostname}' {reason}")
    raise NoCapacity(f"No online {where(image)} can take '{image.friendly_name}' now: " + "; ".join(reasons) + ".")
