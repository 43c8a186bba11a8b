"""Placement order is arithmetic on capacity snapshots: no database, no agents."""

from apps.agents.capacity import AgentCapacity, Resources
from apps.agents.placement import PlacementCandidate, placement_order
from apps.common.units import GIB

NONE = Resources(cores=0, memory=0, gpus=0)


def candidate(name: str, *, cores: int, reserved_cores: float, has_image: bool = True) -> PlacementCandidate:
    capacity = AgentCapacity(physical=Resources(cores=cores, memory=8 * GIB, gpus=0), overrides=NONE)
    reserved = Resources(cores=reserved_cores, memory=0, gpus=0)
    return PlacementCandidate(key=name, capacity=capacity, reserved=reserved, has_image=has_image)


def test_spread_takes_the_largest_free_share_and_pack_the_smallest():
    busy, idle = candidate("busy", cores=4, reserved_cores=3), candidate("idle", cores=16, reserved_cores=4)
    assert [c.key for c in placement_order([busy, idle], "spread")] == ["idle", "busy"]
    assert [c.key for c in placement_order([busy, idle], "pack")] == ["busy", "idle"]


def test_agents_that_have_the_image_come_first_whatever_their_load():
    pulling = candidate("empty-but-must-pull", cores=64, reserved_cores=0, has_image=False)
    loaded = candidate("loaded", cores=4, reserved_cores=3)
    assert [c.key for c in placement_order([pulling, loaded], "spread")] == ["loaded", "empty-but-must-pull"]


def test_an_agent_reporting_no_cores_goes_last_when_spreading():
    unknown = candidate("no-cores-yet", cores=0, reserved_cores=0)
    known = candidate("known", cores=4, reserved_cores=1)
    assert [c.key for c in placement_order([unknown, known], "spread")] == ["known", "no-cores-yet"]
