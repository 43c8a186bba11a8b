"""Claims on an agent's capacity are atomic: concurrent requests never over-allocate it."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import close_old_connections

from apps.agents.capacity import Resources
from apps.agents.selectors import agent_usage
from apps.agents.services import agent_release_capacity, agent_reserve_capacity
from apps.common.units import GIB
from tests.agents.factories import agent

ONE_CPU_ONE_GB = Resources(cores=1, memory=GIB)


@pytest.mark.django_db
def test_reservations_show_as_allocated_with_overrides_applied():
    host = agent(cores=6, memory=32 * GIB, cores_override=12)
    assert agent_reserve_capacity(agent_id=host.pk, request=Resources(cores=2, memory=GIB)) is None
    assert agent_reserve_capacity(agent_id=host.pk, request=Resources(cores=3, memory=GIB)) is None
    host.refresh_from_db()
    usage = agent_usage(host)
    assert usage.cpu_caption == "5 of 12 CPUs allocated" and usage.sessions == 2


@pytest.mark.django_db
def test_a_refused_claim_says_why_and_claims_nothing():
    host = agent(cores=6, memory=6 * GIB)
    for _ in range(6):
        assert agent_reserve_capacity(agent_id=host.pk, request=ONE_CPU_ONE_GB) is None
    assert agent_reserve_capacity(agent_id=host.pk, request=ONE_CPU_ONE_GB) == "has 0 free cores; the image needs 1"
    host.refresh_from_db()
    assert (host.reserved_cores, host.reserved_sessions) == (6, 6)


@pytest.mark.django_db
def test_release_gives_the_capacity_back():
    host = agent(cores=1, memory=GIB)
    agent_reserve_capacity(agent_id=host.pk, request=ONE_CPU_ONE_GB)
    agent_release_capacity(agent_id=host.pk, request=ONE_CPU_ONE_GB)
    assert agent_reserve_capacity(agent_id=host.pk, request=ONE_CPU_ONE_GB) is None


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_claims_on_an_agent_that_fits_ten_grant_exactly_ten():
    host = agent(cores=10, memory=64 * GIB)

    def claim(_):
        try:
            return agent_reserve_capacity(agent_id=host.pk, request=ONE_CPU_ONE_GB)
        finally:
            close_old_connections()

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(claim, range(20)))
    assert outcomes.count(None) == 10
    host.refresh_from_db()
    assert (host.reserved_cores, host.reserved_sessions) == (10, 10)


@pytest.mark.django_db
def test_the_claim_in_the_database_applies_overrides_and_the_physical_limit():
    oversubscribed = agent(cores=4, memory=64 * GIB, cores_override=8)
    for _ in range(8):
        assert agent_reserve_capacity(agent_id=oversubscribed.pk, request=ONE_CPU_ONE_GB) is None
    assert "free cores" in agent_reserve_capacity(agent_id=oversubscribed.pk, request=ONE_CPU_ONE_GB)
    big = Resources(cores=5, memory=GIB)
    roomy = agent("roomy", cores=4, memory=64 * GIB, cores_override=16)
    assert agent_reserve_capacity(agent_id=roomy.pk, request=big) == "has 4 physical cores; the image needs 5"
    capped = agent("capped", cores=8, memory=8 * GIB, memory_override=2 * GIB)
    assert agent_reserve_capacity(agent_id=capped.pk, request=ONE_CPU_ONE_GB) is None
    assert agent_reserve_capacity(agent_id=capped.pk, request=ONE_CPU_ONE_GB) is None
    assert "free memory" in agent_reserve_capacity(agent_id=capped.pk, request=ONE_CPU_ONE_GB)
    gpu_host = agent("gpu", cores=8, memory=8 * GIB, gpus=1)
    one_gpu = Resources(cores=1, memory=GIB, gpus=1)
    assert agent_reserve_capacity(agent_id=gpu_host.pk, request=one_gpu) is None
    assert agent_reserve_capacity(agent_id=gpu_host.pk, request=one_gpu) == "has 0 free GPUs; the image needs 1"
    for host, cores, sessions in ((oversubscribed, 8, 8), (roomy, 0, 0), (capped, 2, 2), (gpu_host, 1, 1)):
        host.refresh_from_db()
        assert (host.reserved_cores, host.reserved_sessions) == (cores, sessions)


@pytest.mark.django_db
def test_fractional_cores_fill_an_agent_exactly():
    host = agent(cores=1, memory=64 * GIB)
    tenth = Resources(cores=0.1, memory=GIB)
    assert [agent_reserve_capacity(agent_id=host.pk, request=tenth) for _ in range(10)] == [None] * 10
    assert "free cores" in agent_reserve_capacity(agent_id=host.pk, request=tenth)
