"""Scheduler throughput: placement decisions per second over 100 agents with 8 concurrent requesters,
on the real database, and a check that no agent is ever over-allocated.

usage: DATABASE_URL=postgres://... python bench/scheduler.py [--decisions 1000] [--agents 100] [--threads 8]
"""

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

from _django import test_database
from django.db import close_old_connections, connection

from apps.agents.models import Agent
from apps.common.units import GIB
from apps.images.models import Image
from apps.sessions.scheduler import NoCapacity, session_place


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    with test_database():
        # 100 agents of 8 cores / 32 GiB take 8 sessions of 1 core each: 800 fit, the rest is refused.
        Agent.objects.bulk_create(
            Agent(hostname=f"a{n:03d}", address="127.0.0.1", status="online", approved=True, cores=8, memory=32 * GIB)
            for n in range(args.agents)
        )
        image = Image.objects.create(docker_image="x/y:1", friendly_name="bench", cores=1, memory=2 * GIB)

        def decide(_):
            try:
                session_place(image)
                return True
            except NoCapacity:
                return False
            finally:
                close_old_connections()

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            placed = sum(pool.map(decide, range(args.decisions)))
        elapsed = time.perf_counter() - started
        over = [a.hostname for a in Agent.objects.all() if a.reserved_cores > a.cores or a.reserved_memory > a.memory]
        capacity = sum(min(a.cores // 1, a.memory // (2 * GIB)) for a in Agent.objects.all())
    print(f"database: {connection.vendor}; {args.agents} agents, {args.threads} concurrent requesters")
    print(f"decisions: {args.decisions} in {elapsed:.2f} s = {args.decisions / elapsed:.0f} decisions/s")
    print(f"placed: {placed} (capacity {capacity}), refused: {args.decisions - placed}")
    print(f"over-allocated agents: {len(over)}")


if __name__ == "__main__":
    main()
