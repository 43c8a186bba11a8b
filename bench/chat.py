"""Share chat fan-out: one share, one owner posting, N viewers connected, over the Redis layer.

Everything is real: daphne serving kasm.asgi, the Redis channel layer, Postgres (or SQLite) for the
history. Viewers are WebSocket clients in this process, so send and receive times share one clock.
Phase 1 (latency): each message is posted once the previous one reached every viewer; fan-out
latency = post -> arrival at each viewer, p50/p99. Phase 2 (throughput): messages posted back to
back; messages per second posted and deliveries per second. The per-user rate limit is raised for
the run (it would otherwise stop the owner after 5 messages in 10 s).

usage: DATABASE_URL=... REDIS_URL=... python bench/chat.py [--viewers 100] [--messages 100] [--burst 200]
"""

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time

from _django import percentile, test_database
from django.test import Client
from websockets.asyncio.client import connect

from apps.sessions.sharing import session_sharing_enable, share_join
from tests.servers import running_daphne
from tests.sessions.stub_sessions import stub_session

JOIN_BATCH = 10


def prepare(viewers: int) -> tuple[str, list[str]]:
    """A shared running session and session cookies of its owner (first) and viewers."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    owner = users.create_user("bench-owner")  # no password: logged in with force_login
    session, _ = stub_session(owner, port=1)
    session_sharing_enable(session=session)
    cookies = []
    for index in range(viewers + 1):
        user = owner if index == 0 else users.create_user(f"bench-viewer-{index}")
        if index:
            share_join(share_id=session.share_id, user=user)
        client = Client()
        client.force_login(user)
        cookies.append(f"sessionid={client.cookies['sessionid'].value}")
    return session.share_id, cookies


async def open_chat(base_url: str, share_id: str, cookie: str):
    url = base_url.replace("http", "ws") + f"/ws/share/{share_id}/chat/"
    websocket = await connect(url, origin=base_url, additional_headers={"Cookie": cookie}, open_timeout=30)
    while json.loads(await websocket.recv())["type"] != "history":
        pass
    return websocket


async def settle(owner, participants: int) -> None:
    """Wait until the join storm's presence traffic is over: the owner sees everyone, then quiet."""
    users = 0
    while users < participants:
        message = json.loads(await owner.recv())
        if message["type"] == "presence":
            users = len(message["users"])
    with contextlib.suppress(TimeoutError):
        while True:
            await asyncio.wait_for(owner.recv(), timeout=2)
    print(f"all {participants} participants present", file=sys.stderr)


async def collect(websocket, arrivals: dict, expected: int, done: asyncio.Event, counter: list) -> None:
    """Record when each message reached this viewer; set `done` when every viewer got all of them."""
    async for raw in websocket:
        message = json.loads(raw)
        if message["type"] == "message":
            arrivals.setdefault(message["body"], []).append(time.perf_counter())
            counter[0] += 1
            if counter[0] >= expected:
                done.set()


async def run(base_url: str, share_id: str, cookies: list[str], messages: int, burst: int) -> dict:
    viewers = []
    for start in range(1, len(cookies), JOIN_BATCH):  # viewers arrive in waves, not all in one instant
        batch = cookies[start : start + JOIN_BATCH]
        viewers += await asyncio.gather(*(open_chat(base_url, share_id, cookie) for cookie in batch))
    print(f"{len(viewers)} viewers connected", file=sys.stderr)
    owner = await open_chat(base_url, share_id, cookies[0])
    await settle(owner, len(viewers) + 1)
    arrivals, sent, done = {}, {}, asyncio.Event()
    readers = [asyncio.create_task(collect(v, arrivals, 0, asyncio.Event(), [0])) for v in viewers]
    owner_reader = asyncio.create_task(collect(owner, {}, 0, asyncio.Event(), [0]))  # keeps its socket drained
    # Phase 1: one message at a time.
    for number in range(messages):
        body = f"latency {number}"
        sent[body] = time.perf_counter()
        await owner.send(json.dumps({"type": "message", "body": body}))
        deadline = time.perf_counter() + 5
        while len(arrivals.get(body, [])) < len(viewers) and time.perf_counter() < deadline:
            await asyncio.sleep(0.0005)
    latencies = [(t - sent[body]) * 1000 for body, times in arrivals.items() for t in times]
    lost = messages * len(viewers) - len(latencies)
    # Phase 2: a burst. (Cancelling a pending recv() is safe in websockets.)
    for task in readers:
        task.cancel()
    expected = burst * len(viewers)
    burst_arrivals, counter = {}, [0]
    readers = [asyncio.create_task(collect(v, burst_arrivals, expected, done, counter)) for v in viewers]
    started = time.perf_counter()
    for number in range(burst):
        await owner.send(json.dumps({"type": "message", "body": f"burst {number}"}))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), timeout=60)
    elapsed = time.perf_counter() - started
    for task in [*readers, owner_reader]:
        task.cancel()
    for websocket in [owner, *viewers]:
        await websocket.close()
    return {
        "latencies": latencies,
        "lost": lost,
        "burst_seconds": elapsed,
        "deliveries": counter[0],
        "expected": expected,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=100)
    parser.add_argument("--messages", type=int, default=100, help="messages of the latency phase")
    parser.add_argument("--burst", type=int, default=200, help="messages of the throughput phase")
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL: this benchmark measures the Redis channel layer.")
    with test_database() as database_url:
        share_id, cookies = prepare(args.viewers)
        env = {"DATABASE_URL": database_url, "REDIS_URL": os.environ["REDIS_URL"], "LOG_LEVEL": "WARNING"}
        env["CHAT_RATE_LIMIT_MESSAGES"] = "1000000"
        with running_daphne(env) as base_url:
            figures = asyncio.run(run(base_url, share_id, cookies, args.messages, args.burst))
    latencies = figures["latencies"]
    print(f"viewers: {args.viewers}, one daphne process, Redis channel layer, database {database_url.split(':')[0]}")
    print(
        f"fan-out latency over {len(latencies)} deliveries ({args.messages} messages, one at a time): "
        f"p50 {percentile(latencies, 0.5):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms, "
        f"max {max(latencies):.1f} ms; lost {figures['lost']}"
    )
    seconds = figures["burst_seconds"]
    print(
        f"burst of {args.burst} messages: {figures['deliveries']} of {figures['expected']} deliveries "
        f"in {seconds:.2f} s = "
        f"{args.burst / seconds:.0f} messages/s posted, {figures['deliveries'] / seconds:.0f} deliveries/s"
    )


if __name__ == "__main__":
    main()
