"""Capacity arithmetic of an agent: what it offers, what is allocated, and whether a request fits.

Pure functions on plain values, so the scheduler, the console and the tests share one definition.
Rules (Kasm's Docker Agents page): an override of 0 means "use the reported value"; a non-zero
override replaces it, which allows oversubscription; but no single request may exceed the agent's
*physical* resources, whatever the override.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from apps.common.units import GIB

CORE_TOLERANCE = 1e-9  # fractional cores are floats; sums of them must not refuse an exact fit


@dataclass(frozen=True)
class Resources:
    cores: float = 0
    memory: int = 0  # bytes
    gpus: int = 0

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.cores + other.cores, self.memory + other.memory, self.gpus + other.gpus)

    def __sub__(self, other: Resources) -> Resources:
        return Resources(self.cores - other.cores, self.memory - other.memory, self.gpus - other.gpus)


@dataclass(frozen=True)
class AgentCapacity:
    """What an agent reports (physical) and the admin's overrides (0 = none)."""

    physical: Resources
    overrides: Resources = Resources()

    @cached_property  # read for every candidate of every placement: made once per snapshot
    def capacity(self) -> Resources:
        return Resources(
            cores=self.overrides.cores or self.physical.cores,
            memory=self.overrides.memory or self.physical.memory,
            gpus=self.overrides.gpus or self.physical.gpus,
        )


def allocated(reservations: list[Resources]) -> Resources:
    """Sum of the reservations of the sessions on an agent."""
    total = Resources()
    for reservation in reservations:
        total += reservation
    return total


def free(agent: AgentCapacity, reserved: Resources) -> Resources:
    return agent.capacity - reserved


def fits(agent: AgentCapacity, reserved: Resources, request: Resources) -> bool:
    """`shortfall(...) is None`, without building the reasons: the scheduler asks it of every agent."""
    physical, capacity = agent.physical, agent.capacity
    return (
        request.gpus <= physical.gpus
        and request.cores <= physical.cores
        and request.memory <= physical.memory
        and reserved.gpus + request.gpus <= capacity.gpus
        and reserved.cores + request.cores <= capacity.cores + CORE_TOLERANCE
        and reserved.memory + request.memory <= capacity.memory
    )


def shortfall(agent: AgentCapacity, reserved: Resources, request: Resources) -> str | None:
    """Why `request` cannot be placed on `agent` (with `reserved` already allocated), or None if it fits."""
    physical, available = agent.physical, free(agent, reserved)
    if request.gpus > physical.gpus:
        return f"has {physical.gpus} physical GPUs; the image needs {request.gpus}"
    if request.cores > physical.cores:
        return f"has {format_number(physical.cores)} physical cores; the image needs {format_number(request.cores)}"
    if request.memory > physical.memory:
        return f"has {format_bytes(physical.memory)} of physical memory; the image needs {format_bytes(request.memory)}"
    if request.gpus > available.gpus:
        return f"has {max(available.gpus, 0)} free GPUs; the image needs {request.gpus}"
    if request.cores > available.cores + CORE_TOLERANCE:
        return (
            f"has {format_number(max(available.cores, 0))} free cores; the image needs {format_number(request.cores)}"
        )
    if request.memory > available.memory:
        return (
            f"has {format_bytes(max(available.memory, 0))} free memory; the image needs {format_bytes(request.memory)}"
        )
    return None


def sessions_that_fit(agent: AgentCapacity, reserved: Resources, request: Resources) -> int:
    """How many more sessions of `request` the agent takes."""
    if shortfall(agent, reserved, request) is not None:
        return 0
    available = free(agent, reserved)
    limits = [(available.cores + CORE_TOLERANCE) / request.cores if request.cores else None]
    limits.append(available.memory // request.memory if request.memory else None)
    limits.append(available.gpus // request.gpus if request.gpus else None)
    bounded = [int(limit) for limit in limits if limit is not None]
    return min(bounded) if bounded else 0


def allocation_summary(used: float, total: float, unit: str) -> str:
    """The console's bar caption, e.g. "5 of 12 CPUs allocated"."""
    return f"{format_number(used)} of {format_number(total)} {unit} allocated"


def format_number(value: float) -> str:
    return f"{value:g}"


def format_bytes(value: int) -> str:
    return f"{value / GIB:.1f} GiB" if value >= GIB else f"{value / 1024**2:.0f} MiB"
