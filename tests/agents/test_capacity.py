"""Capacity arithmetic, with the worked examples of Kasm's Docker Agents page."""

import itertools

import pytest

from apps.agents.capacity import (
    GIB,
    AgentCapacity,
    Resources,
    allocated,
    allocation_summary,
    fits,
    sessions_that_fit,
    shortfall,
)

SIX_CPUS_SIX_GB = Resources(cores=6, memory=6 * GIB)
ONE_CPU_ONE_GB = Resources(cores=1, memory=GIB)


def test_zero_override_means_the_reported_value():
    agent = AgentCapacity(physical=Resources(cores=6, memory=8 * GIB, gpus=1))
    assert agent.capacity == Resources(cores=6, memory=8 * GIB, gpus=1)


def test_override_replaces_the_reported_value():
    agent = AgentCapacity(physical=Resources(6, 8 * GIB, 1), overrides=Resources(cores=12, gpus=10))
    assert agent.capacity == Resources(cores=12, memory=8 * GIB, gpus=10)


def test_six_cpus_overridden_to_twelve_with_sessions_of_two_and_three_shows_five_of_twelve():
    agent = AgentCapacity(physical=Resources(cores=6, memory=32 * GIB), overrides=Resources(cores=12))
    reserved = allocated([Resources(cores=2, memory=GIB), Resources(cores=3, memory=GIB)])
    assert allocation_summary(reserved.cores, agent.capacity.cores, "CPUs") == "5 of 12 CPUs allocated"


def test_six_cpus_six_gb_with_one_cpu_one_gb_images_fits_six_sessions():
    agent = AgentCapacity(physical=SIX_CPUS_SIX_GB)
    assert sessions_that_fit(agent, Resources(), ONE_CPU_ONE_GB) == 6
    assert shortfall(agent, allocated([ONE_CPU_ONE_GB] * 6), ONE_CPU_ONE_GB) == ("has 0 free cores; the image needs 1")


def test_twelve_cpu_override_still_fits_only_as_many_as_memory_allows():
    agent = AgentCapacity(physical=SIX_CPUS_SIX_GB, overrides=Resources(cores=12))
    assert sessions_that_fit(agent, Resources(), ONE_CPU_ONE_GB) == 6
    assert shortfall(agent, allocated([ONE_CPU_ONE_GB] * 6), ONE_CPU_ONE_GB) == (
        "has 0 MiB free memory; the image needs 1.0 GiB"
    )


def test_twelve_cpu_and_twelve_gb_overrides_fit_twelve_sessions():
    agent = AgentCapacity(physical=SIX_CPUS_SIX_GB, overrides=Resources(cores=12, memory=12 * GIB))
    assert sessions_that_fit(agent, Resources(), ONE_CPU_ONE_GB) == 12


def test_gpu_override_oversubscribes_one_gpu_for_ten_one_gpu_sessions():
    agent = AgentCapacity(physical=Resources(cores=64, memory=256 * GIB, gpus=1), overrides=Resources(gpus=10))
    one_gpu = Resources(cores=1, memory=GIB, gpus=1)
    assert sessions_that_fit(agent, Resources(), one_gpu) == 10


def test_an_image_needing_ten_gpus_never_lands_on_a_one_gpu_agent_even_with_an_override_of_ten():
    agent = AgentCapacity(physical=Resources(cores=64, memory=256 * GIB, gpus=1), overrides=Resources(gpus=10))
    ten_gpus = Resources(cores=1, memory=GIB, gpus=10)
    assert shortfall(agent, Resources(), ten_gpus) == "has 1 physical GPUs; the image needs 10"
    assert sessions_that_fit(agent, Resources(), ten_gpus) == 0


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (Resources(cores=8, memory=GIB), "has 6 physical cores; the image needs 8"),
        (Resources(cores=1, memory=7 * GIB), "has 6.0 GiB of physical memory; the image needs 7.0 GiB"),
        (Resources(cores=1, memory=GIB, gpus=1), "has 0 physical GPUs; the image needs 1"),
    ],
)
def test_no_override_lets_one_session_exceed_the_physical_host(request_, reason):
    agent = AgentCapacity(physical=SIX_CPUS_SIX_GB, overrides=Resources(cores=100, memory=100 * GIB, gpus=4))
    assert shortfall(agent, Resources(), request_) == reason


def test_fractional_cores_add_up():
    agent = AgentCapacity(physical=Resources(cores=2, memory=8 * GIB))
    half = Resources(cores=0.5, memory=GIB // 8)
    assert sessions_that_fit(agent, allocated([half, half, half]), half) == 1


def test_fits_agrees_with_shortfall_on_every_case():
    """The scheduler's fast check and the reasons it gives must never disagree."""
    values = {
        "physical": [Resources(4, 8 * GIB, 0), Resources(8, 16 * GIB, 1)],
        "overrides": [Resources(), Resources(16, 4 * GIB, 2)],
        "reserved": [Resources(), Resources(3.5, 4 * GIB, 1), Resources(8, 16 * GIB, 2)],
        "request": [Resources(0.5, GIB), Resources(4, 8 * GIB, 1), Resources(9, GIB), Resources(1, 17 * GIB)],
    }
    for physical, overrides, reserved, request in itertools.product(*values.values()):
        agent = AgentCapacity(physical=physical, overrides=overrides)
        assert fits(agent, reserved, request) == (shortfall(agent, reserved, request) is None), (
            agent,
            reserved,
            request,
        )
