"""Scheduler throughput: placement decisions per second over 100 agents with 8 concurrent
requesters, on the real database, and a check that no agent is ever over-allocated.

Two schedulers are measured in the same run, each on a fresh set of agents: the current one (a
snapshot of plain values, one conditional UPDATE per claim: `session_place`) and the baseline it
replaced, copied here: a snapshot of model instances, then per claim the agent's row locked with
SELECT ... FOR UPDATE, re-checked in Python and updated in one transaction (a locked row skipped at
first and waited for later), then re-read. Both use the same placement order.

usage: DATABASE_URL=postgres://... python bench/scheduler.py [--decisions 1000] [--agents 100] [--requesters 8]
       [--processes]
"""

import argparse
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from _django import test_database
from django.db import connection, transaction
from django.db.models import F

from apps.agents.capacity import shortfall
from apps.agents.models import Agent
from apps.agents.placement import PlacementCandidate, placement_order, zone_policy
from apps.agents.selectors import agent_capacity, agent_reserved
from apps.common.units import GIB
from apps.images.models import Image
from apps.sessions import scheduler
from apps.sessions.scheduler import NoCapacity, session_place


class Busy(Exception):
    pass


def lock_then_refresh_claim(*, agent_id, request, wait=True):
    """The baseline: the claim before the conditional UPDATE."""
    with transaction.atomic():
        agent = Agent.objects.select_for_update(skip_locked=not wait).filter(pk=agent_id).first()
        if agent is None:
            raise Busy
        reason = shortfall(agent_capacity(agent), agent_reserved(agent), request)
        if reason is None:
            Agent.objects.filter(pk=agent_id).update(
                reserved_cores=F("reserved_cores") + request.cores,
                reserved_memory=F("reserved_memory") + request.memory,
                reserved_gpus=F("reserved_gpus") + request.gpus,
                reserved_sessions=F("reserved_sessions") + 1,
            )
        return reason


def baseline_candidates(image):
    """The baseline's snapshot: every candidate agent as a model instance, ordered as before."""
    fields = ["hostname", "address", "zone", "cores", "memory", "gpus", "cores_override", "memory_override"]
    fields += ["gpus_override", "reserved_cores", "reserved_memory", "reserved_gpus", "images_present", "networks"]
    agents = (
        Agent.objects.filter(status="online", enabled=True, approved=True)
        .select_related("zone")
        .only(*fields, "zone__placement_policy")
    )
    candidates = [
        PlacementCandidate(
            agent, agent_capacity(agent), agent_reserved(agent), has_image=image.docker_image in agent.images_present
        )
        for agent in agents
    ]
    policy = zone_policy({agent.zone.placement_policy if agent.zone else "" for agent in agents}, "spread")
    return [candidate.key for candidate in placement_order(candidates, policy)]


def baseline_place(image):
    """The baseline's placement loop: try fitting agents without waiting, then wait on busy ones."""
    request = scheduler.image_request(image)
    busy = []
    for agent in baseline_candidates(image):
        if shortfall(agent_capacity(agent), agent_reserved(agent), request) is None:
            try:
                if lock_then_refresh_claim(agent_id=agent.pk, request=request, wait=False) is None:
                    agent.refresh_from_db()
                    return agent
            except Busy:
                busy.append(agent)
    for agent in busy:
        if lock_then_refresh_claim(agent_id=agent.pk, request=request) is None:
            agent.refresh_from_db()
            return agent
    raise NoCapacity("full")


def decide_many(place, image_id, count: int) -> int:
    """`count` decisions in a row, as one requester; how many were placed."""
    image = Image.objects.get(pk=image_id)
    placed = 0
    for _ in range(count):
        try:
            place(image)
            placed += 1
        except NoCapacity:
            pass
    connection.close()  # each requester kept its connection, as daphne's pooled connections do
    return placed


def run(place, args, prefix) -> dict:
    # Agents of 8 cores / 32 GiB take 8 sessions of 1 core each: 800 fit over 100, the rest is refused.
    online = {"address": "127.0.0.1", "status": "online", "approved": True}
    Agent.objects.bulk_create(
        Agent(hostname=f"{prefix}{n:03d}", cores=8, memory=32 * GIB, **online) for n in range(args.agents)
    )
    image = Image.objects.create(docker_image="x/y:1", friendly_name="bench", cores=1, memory=2 * GIB)
    shares = [
        args.decisions // args.requesters + (n < args.decisions % args.requesters) for n in range(args.requesters)
    ]
    connection.close()  # the requesters open their own connections (a forked one would be shared)
    if args.processes:
        pool = ProcessPoolExecutor(args.requesters, mp_context=multiprocessing.get_context("fork"))
    else:
        pool = ThreadPoolExecutor(args.requesters)
    started = time.perf_counter()
    with pool:
        placed = sum(pool.map(decide_many, [place] * args.requesters, [image.pk] * args.requesters, shares))
    elapsed = time.perf_counter() - started
    agents = list(Agent.objects.filter(hostname__startswith=prefix))
    over = [a.hostname for a in agents if a.reserved_cores > a.cores or a.reserved_memory > a.memory]
    capacity = sum(min(a.cores // 1, a.memory // (2 * GIB)) for a in agents)
    Agent.objects.filter(hostname__startswith=prefix).update(status="offline")  # out of the next run's way
    return {"rate": args.decisions / elapsed, "elapsed": elapsed, "placed": placed, "capacity": capacity, "over": over}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--requesters", type=int, default=8)
    parser.add_argument(
        "--processes", action="store_true", help="requesters are processes (as several servers), not threads of one"
    )
    args = parser.parse_args()
    with test_database():
        results = {
            "lock then refresh (baseline)": run(baseline_place, args, "base"),
            "conditional UPDATE": run(session_place, args, "cond"),
        }
    kind = "processes" if args.processes else "threads"
    print(f"database: {connection.vendor}; {args.agents} agents, {args.requesters} concurrent requesters ({kind})")
    for name, result in results.items():
        print(
            f"{name}: {args.decisions} decisions in {result['elapsed']:.2f} s = {result['rate']:.0f} decisions/s; "
            f"placed {result['placed']} (capacity {result['capacity']}), over-allocated agents: {len(result['over'])}"
        )
    ratio = results["conditional UPDATE"]["rate"] / results["lock then refresh (baseline)"]["rate"]
    print(f"ratio: {ratio:.2f}x the baseline")


if __name__ == "__main__":
    main()
