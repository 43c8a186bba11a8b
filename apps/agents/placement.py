"""Which agent a session tries first: pure ordering over capacity snapshots (see capacity.py).

Agents that already have the image come first (no pull before the start); among those and among
the rest, the policy decides: `spread` puts the agent with the largest share of free cores first,
`pack` the one with the smallest, so that others stay empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from apps.agents.capacity import AgentCapacity, Resources

Key = TypeVar("Key")


@dataclass(frozen=True)
class PlacementCandidate(Generic[Key]):
    key: Key  # what the caller places on (an agent)
    capacity: AgentCapacity
    reserved: Resources
    has_image: bool


def placement_order(candidates: list[PlacementCandidate], policy: str) -> list[PlacementCandidate]:
    direction = -1 if policy == "spread" else 1
    return sorted(candidates, key=lambda c: (not c.has_image, direction * _free_cores_share(c)))


def _free_cores_share(candidate: PlacementCandidate) -> float:
    total = candidate.capacity.capacity.cores
    return (total - candidate.reserved.cores) / total if total else 0


def zone_policy(zone_policies: set[str], default: str) -> str:
    """The policy for candidates from zones whose policies are `zone_policies` ('' for none set):
    the zone's own when they all share one zone's, else the default."""
    return (next(iter(zone_policies)) or default) if len(zone_policies) == 1 else default
