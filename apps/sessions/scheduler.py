"""Choosing an agent for a session and claiming its capacity there, race-free."""

from __future__ import annotations

from django.conf import settings

from apps.agents.capacity import Resources, shortfall
from apps.agents.choices import AgentStatus
from apps.agents.models import Agent
from apps.agents.placement import PlacementCandidate, placement_order, zone_policy
from apps.agents.selectors import agent_capacity, agent_reserved
from apps.agents.services import AgentBusy, agent_reserve_capacity
from apps.common.errors import ApplicationError
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session


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
    agents = (
        Agent.objects.filter(status=AgentStatus.ONLINE, enabled=True, approved=True)
        .select_related("zone")
        .only(*PLACEMENT_FIELDS, "networks", "zone__placement_policy")
    )
    if image.restrict_to_zone_id:
        agents = agents.filter(zone_id=image.restrict_to_zone_id)
    if image.restrict_to_agent_id:
        agents = agents.filter(pk=image.restrict_to_agent_id)
    return list(agents)


def agents_in_placement_order(agents: list[Agent], image: Image) -> list[Agent]:
    candidates = [
        PlacementCandidate(
            key=agent,
            capacity=agent_capacity(agent),
            reserved=agent_reserved(agent),
            has_image=image.docker_image in agent.images_present,
        )
        for agent in agents
    ]
    policy = zone_policy(
        {agent.zone.placement_policy if agent.zone else "" for agent in agents}, settings.SCHEDULER_POLICY
    )
    return [candidate.key for candidate in placement_order(candidates, policy)]


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
    if image.network:
        agents = [agent for agent in agents if image.network in agent.networks]
        if not agents:
            raise NoCapacity(
                f"No online {where(image)} has the Docker network '{image.network}' that '{image.friendly_name}' "
                "joins: create it on an agent's engine, or clear the workspace's network."
            )
    reasons, busy = [], []
    for agent in agents_in_placement_order(agents, image):
        # The snapshot rules out agents without locking them; a fitting one is re-checked under its lock.
        reason = shortfall(agent_capacity(agent), agent_reserved(agent), request)
        if reason is None:
            try:
                reason = _claim(agent, request, wait=False)
            except AgentBusy:
                busy.append(agent)  # another request is claiming it right now: try the others first
                continue
            if reason is None:
                return agent
        reasons.append(f"'{agent.hostname}' {reason}")
    for agent in busy:
        reason = _claim(agent, request, wait=True)
        if reason is None:
            return agent
        reasons.append(f"'{agent.hostname}' {reason}")
    message = f"No online {where(image)} can take '{image.friendly_name}' now: " + "; ".join(reasons) + "."
    if Session.objects.filter(agent__in=agents, status=SessionStatus.DELETING).exists():
        message += " Sessions being deleted there are freeing capacity: try again in a few seconds."
    raise NoCapacity(message)


def _claim(agent: Agent, request: Resources, *, wait: bool) -> str | None:
    """Reserve `request` on `agent` under its row lock; None when claimed (and `agent` re-read)."""
    reason = agent_reserve_capacity(agent_id=agent.pk, request=request, wait=wait)
    if reason is None:
        agent.refresh_from_db()
    return reason
