"""Choosing an agent for a session and claiming its capacity there, race-free.

The order is a pure function (apps/agents/placement.py) over a snapshot of the agents; the claim is
one conditional UPDATE (`agent_reserve_capacity`) that the database checks, so the snapshot only
has to be good enough to choose, never to be right. Each process keeps its snapshot for up to
SNAPSHOT_MAX_AGE seconds and adds its own claims to it: reading a thousand agents for every request
would cost more than the decision. A request that finds nothing in the snapshot reads the agents
again before it refuses, so a refusal reflects the database.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, replace

from django.conf import settings

from apps.agents.capacity import AgentCapacity, Resources, fits, shortfall
from apps.agents.choices import AgentStatus
from apps.agents.placement import PlacementCandidate, placement_order, zone_policy
from apps.agents.selectors import agents_taking_sessions
from apps.agents.services import agent_reserve_capacity
from apps.common.errors import ApplicationError
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session

SNAPSHOT_MAX_AGE = 0.5  # seconds


class NoCapacity(ApplicationError):
    """No agent can take the session now; the message says why."""


def image_request(image: Image) -> Resources:
    return Resources(cores=image.cores, memory=image.memory, gpus=image.gpus)


PLACEMENT_FIELDS = (
    "pk",
    "hostname",
    "zone_id",
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
    "networks",
    "zone__placement_policy",
)


@dataclass(frozen=True)
class AgentSnapshot:
    """What placement reads of an agent: plain values, one query for all of them."""

    pk: object
    hostname: str
    zone_id: object
    capacity: AgentCapacity
    reserved: Resources
    images_present: frozenset[str]
    networks: frozenset[str]
    zone_policy: str  # '' when the agent has no zone, or its zone no policy of its own


def agents_snapshot() -> list[AgentSnapshot]:
    """Every online, enabled, approved agent, read now."""
    rows = agents_taking_sessions().values_list(*PLACEMENT_FIELDS)
    return [
        AgentSnapshot(
            pk=row[0],
            hostname=row[1],
            zone_id=row[2],
            capacity=AgentCapacity(physical=Resources(*row[3:6]), overrides=Resources(*row[6:9])),
            reserved=Resources(*row[9:12]),
            images_present=frozenset(row[12]),
            networks=frozenset(row[13]),
            zone_policy=row[14] or "",
        )
        for row in rows
    ]


def candidate_agents(image: Image, snapshot: list[AgentSnapshot] | None = None) -> list[AgentSnapshot]:
    """The agents of `snapshot` (read now when not given) the image may run on, by zone and agent."""
    agents = agents_snapshot() if snapshot is None else snapshot
    if image.restrict_to_zone_id:
        agents = [agent for agent in agents if agent.zone_id == image.restrict_to_zone_id]
    if image.restrict_to_agent_id:
        agents = [agent for agent in agents if agent.pk == image.restrict_to_agent_id]
    return agents


def agents_in_placement_order(agents: list[AgentSnapshot], image: Image) -> list[AgentSnapshot]:
    """The placement order; agents that tie (a fleet of empty, equal hosts) come from a random
    starting point, so concurrent requests spread over them instead of all claiming on one row."""
    reference = image.docker_image
    start = random.randrange(len(agents)) if agents else 0  # noqa: S311  (spreading load, not a secret)
    candidates = [
        PlacementCandidate(agent, agent.capacity, agent.reserved, has_image=reference in agent.images_present)
        for agent in agents[start:] + agents[:start]
    ]
    policy = zone_policy({agent.zone_policy for agent in agents}, settings.SCHEDULER_POLICY)
    return [candidate.key for candidate in placement_order(candidates, policy)]


class _SnapshotCache:
    """This process's recent snapshot, shared by its threads, with its own claims added."""

    def __init__(self):
        self.lock = threading.Lock()
        self.taken_at = float("-inf")
        self.agents: dict[object, AgentSnapshot] = {}

    def get(self) -> list[AgentSnapshot]:
        with self.lock:
            if time.monotonic() - self.taken_at > SNAPSHOT_MAX_AGE:
                self._read_all()
            return list(self.agents.values())

    def rechecked(self) -> list[AgentSnapshot]:
        """The snapshot with every agent's reservations as the database has them now: one narrow
        query, or a full read when the set of usable agents changed."""
        rows = agents_taking_sessions().values_list("pk", "reserved_cores", "reserved_memory", "reserved_gpus")
        reserved = {row[0]: Resources(*row[1:]) for row in rows}
        with self.lock:
            if reserved.keys() != self.agents.keys():
                self._read_all()
            else:
                for pk, now in reserved.items():
                    if self.agents[pk].reserved != now:
                        self.agents[pk] = replace(self.agents[pk], reserved=now)
            return list(self.agents.values())

    def _read_all(self) -> None:
        self.agents = {agent.pk: agent for agent in agents_snapshot()}
        self.taken_at = time.monotonic()

    def claimed(self, agent: AgentSnapshot, request: Resources) -> None:
        with self.lock:
            if agent.pk in self.agents:
                self.agents[agent.pk] = replace(agent, reserved=agent.reserved + request)


_snapshots = _SnapshotCache()


def where(image: Image) -> str:
    if image.restrict_to_agent_id:
        return f"agent '{image.restrict_to_agent}'"
    if image.restrict_to_zone_id:
        return f"agent in zone '{image.restrict_to_zone}'"
    return "agent"


def session_place(image: Image, *, kept_free: float = 0.0, zone_id=None) -> AgentSnapshot:
    """Claim the image's resources on the best agent; raise NoCapacity with the reasons if none fits.
    `kept_free` (a share of each agent's cores and memory) must stay free after the claim: staged
    sessions leave room for the launches of live users. `zone_id`: only on that zone's agents
    (a staging pool of one zone)."""
    request = image_request(image)
    placed = _place(image, request, _snapshots.get(), kept_free, zone_id)
    if placed is None:  # the snapshot may be out of date: refuse on what the database says now
        placed = _place(image, request, _snapshots.rechecked(), kept_free, zone_id)
    if placed is None:
        raise NoCapacity(_refusal(image, request, _snapshots.get(), zone_id))
    _snapshots.claimed(placed, request)
    return placed


def _candidates(image: Image, snapshot: list[AgentSnapshot], zone_id) -> list[AgentSnapshot]:
    agents = candidate_agents(image, snapshot)
    return [agent for agent in agents if agent.zone_id == zone_id] if zone_id else agents


def _place(
    image: Image, request: Resources, snapshot: list[AgentSnapshot], kept_free: float = 0.0, zone_id=None
) -> AgentSnapshot | None:
    """The agent claimed on, in placement order, or None."""
    agents = _candidates(image, snapshot, zone_id)
    if image.network:
        agents = [agent for agent in agents if image.network in agent.networks]
    zone_id = zone_id or image.restrict_to_zone_id
    for agent in agents_in_placement_order(agents, image):
        fitting = fits(agent.capacity, _with_kept_free(agent, kept_free), request)
        if fitting and agent_reserve_capacity(agent_id=agent.pk, request=request, zone_id=zone_id) is None:
            return agent
    return None


def _with_kept_free(agent: AgentSnapshot, kept_free: float) -> Resources:
    """The agent's reservations, plus the share of its capacity that must stay free."""
    if not kept_free:
        return agent.reserved
    room = agent.capacity.capacity
    return agent.reserved + Resources(cores=room.cores * kept_free, memory=int(room.memory * kept_free))


def _refusal(image: Image, request: Resources, snapshot: list[AgentSnapshot], zone_id=None) -> str:
    """Why no agent takes the image, each agent's reason from the snapshot (a claim the database
    refused re-read that agent, and the snapshot is the one read before)."""
    agents = _candidates(image, snapshot, zone_id)
    if not agents:
        return f"No online, enabled {where(image)} is available for '{image.friendly_name}'" + (
            " in the pool's zone." if zone_id else "."
        )
    if image.network:
        agents = [agent for agent in agents if image.network in agent.networks]
        if not agents:
            return (
                f"No online {where(image)} has the Docker network '{image.network}' that '{image.friendly_name}' "
                "joins: create it on an agent's engine, or clear the workspace's network."
            )
    reasons = [
        f"'{agent.hostname}' " + (shortfall(agent.capacity, agent.reserved, request) or "is claimed by other requests")
        for agent in agents_in_placement_order(agents, image)
    ]
    message = f"No online {where(image)} can take '{image.friendly_name}' now: " + "; ".join(reasons) + "."
    if Session.objects.filter(agent__status=AgentStatus.ONLINE, status=SessionStatus.DELETING).exists():
        message += " Sessions being deleted there are freeing capacity: try again in a few seconds."
    return message
