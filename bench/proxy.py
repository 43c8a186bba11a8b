"""Session proxy cost: a WebSocket RFB stream through daphne + our proxy vs the same stream direct.

The upstream is a stub workspace on loopback (asyncio websockets) that completes an RFB handshake
(security None), then either streams N bytes on request or echoes small messages, so the figures
are the proxy's own overhead. Prints throughput (MB/s) and round-trip p50/p99 both ways, and ratios.

usage: DATABASE_URL=... REDIS_URL=... python bench/proxy.py [--megabytes 256] [--rounds 5] [--round-trips 2000]
"""

import argparse
import asyncio
import contextlib
import logging
import os
import struct
import threading
import time
from statistics import median

from _django import ROOT, percentile, test_database
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.servers import free_port, running_daphne
from tests.sessions.rfb_client import Stream, handshake_as_browser
from tests.sessions.stub_sessions import stub_session

CHUNK = 64 * 1024


async def stub_workspace(websocket) -> None:
    await websocket.send(b"RFB 003.008\n")
    await websocket.recv()  # client version
    await websocket.send(b"\x01\x01")
    await websocket.recv()  # security type None
    await websocket.send(struct.pack(">I", 0))
    await websocket.recv()  # ClientInit
    with contextlib.suppress(ConnectionClosed):  # the benchmark hangs up when done
        async for message in websocket:
            if message[:1] == b"S":
                (total,) = struct.unpack(">I", message[1:5])
                payload = b"\x00" * CHUNK
                for _ in range(total // CHUNK):
                    await websocket.send(payload)
            else:
                await websocket.send(message)


def start_stub(port: int) -> None:
    async def main():
        async with serve(stub_workspace, "127.0.0.1", port, max_size=None, compression=None):
            await asyncio.Future()

    logging.getLogger("websockets.server").setLevel(logging.WARNING)
    threading.Thread(target=lambda: asyncio.run(main()), daemon=True).start()
    time.sleep(0.5)


def client_ready(websocket) -> Stream:
    """Handshake as a browser, then ClientInit (shared), as noVNC does before any message."""
    stream = handshake_as_browser(websocket)
    websocket.send(b"\x01")
    return stream


def stream_throughput(websocket, megabytes: int) -> float:
    """MB/s of one stream of `megabytes` MiB sent by the workspace on request."""
    total = megabytes * 1024 * 1024
    started = time.perf_counter()
    websocket.send(b"S" + struct.pack(">I", total))
    received = 0
    while received < total:
        received += len(websocket.recv(timeout=60))
    return total / (time.perf_counter() - started) / 1e6


def round_trips(stream: Stream, websocket, count: int) -> list[float]:
    """Milliseconds per 9-byte message echoed by the workspace."""
    rtts = []
    for n in range(count):
        message = b"P" + n.to_bytes(8, "big")
        started = time.perf_counter()
        websocket.send(message)
        assert stream.read(len(message)) == message
        rtts.append((time.perf_counter() - started) * 1000)
    return rtts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=256, help="size of each stream")
    parser.add_argument("--rounds", type=int, default=5, help="streams each way, proxied and direct alternating")
    parser.add_argument("--round-trips", type=int, default=2000)
    args = parser.parse_args()
    stub_port = free_port()
    start_stub(stub_port)
    with test_database() as database_url:
        from django.contrib.auth import get_user_model

        session, token = stub_session(get_user_model().objects.create_user(username="bench"), port=stub_port)
        env = {"DATABASE_URL": database_url, "REDIS_URL": os.environ.get("REDIS_URL", "")}
        with running_daphne(env) as base_url:
            proxied_url = base_url.replace("http", "ws") + f"/desktop/{session.hex_id}/vnc/websockify"
            headers = {"Cookie": f"username=bench; session_token={token}"}
            options = {"max_size": None, "compression": None}
            with (
                connect(proxied_url, origin=base_url, additional_headers=headers, **options) as proxied,
                connect(f"ws://127.0.0.1:{stub_port}/", **options) as direct,
            ):
                streams = {"through proxy": client_ready(proxied), "direct": client_ready(direct)}
                sockets = {"through proxy": proxied, "direct": direct}
                throughputs = {name: [] for name in sockets}
                for _ in range(args.rounds):  # alternating, so a slow spell of the machine hits both
                    for name, websocket in sockets.items():
                        throughputs[name].append(stream_throughput(websocket, args.megabytes))
                rtts = {name: round_trips(streams[name], sockets[name], args.round_trips) for name in sockets}
    report(args, throughputs, rtts)


def report(args, throughputs: dict[str, list[float]], rtts: dict[str, list[float]]) -> None:
    print(
        f"{args.rounds} streams of {args.megabytes} MiB each way in {CHUNK // 1024} KiB messages "
        f"(median shown); {args.round_trips} round trips of 9 bytes"
    )
    for name in ("direct", "through proxy"):
        p50, p99 = percentile(rtts[name], 0.5), percentile(rtts[name], 0.99)
        runs = " ".join(f"{value:.0f}" for value in throughputs[name])
        print(f"{name:>14}: {median(throughputs[name]):6.1f} MB/s ({runs})  round trip p50 {p50:.3f}  p99 {p99:.3f} ms")
    pairs = zip(throughputs["through proxy"], throughputs["direct"], strict=True)
    ratios = [proxied / direct for proxied, direct in pairs]
    print(f"proxy throughput = {100 * median(ratios):.0f} % of direct (median of the rounds' ratios)")
    added = percentile(rtts["through proxy"], 0.5) - percentile(rtts["direct"], 0.5)
    print(f"proxy adds {added:.3f} ms to the p50 round trip")


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
