"""A browser that stops reading holds the workspace back: the proxy does not buffer the stream."""

import asyncio
import struct
import threading
import time

import pytest
from websockets.asyncio.server import serve
from websockets.sync.client import connect

from apps.agents.models import Agent
from apps.common.hashing import generate_secret, hash_secret
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from tests.servers import free_port, running_daphne
from tests.sessions.rfb_client import handshake_as_browser

pytestmark = pytest.mark.django_db(transaction=True)
CHUNK = 64 * 1024
STREAM = 256 * 1024**2


def start_streaming_workspace(port: int, sent: list[int]) -> None:
    """An RFB server (security None) that streams STREAM bytes after ClientInit, counting in `sent`."""

    async def workspace(websocket) -> None:
        await websocket.send(b"RFB 003.008\n")
        await websocket.recv()
        await websocket.send(b"\x01\x01")
        await websocket.recv()
        await websocket.send(struct.pack(">I", 0))
        await websocket.recv()  # ClientInit
        for _ in range(STREAM // CHUNK):
            await websocket.send(b"\x00" * CHUNK)  # waits while the proxy does not read
            sent[0] += CHUNK
        await websocket.wait_closed()

    async def main() -> None:
        async with serve(workspace, "127.0.0.1", port, max_size=None, compression=None):
            await asyncio.Future()

    threading.Thread(target=lambda: asyncio.run(main()), daemon=True).start()
    time.sleep(0.3)


def test_a_browser_that_stops_reading_stops_the_workspace_not_the_servers_memory(
    alice, live_database_url, redis_url
):
    port, token, sent = free_port(), generate_secret(), [0]
    start_streaming_workspace(port, sent)
    session = Session.objects.create(
        owner=alice,
        image=Image.objects.create(docker_image="stream", friendly_name="Stream"),
        agent=Agent.objects.create(hostname="stream-host", address="127.0.0.1", status="online"),
        status=SessionStatus.RUNNING,
        host_port=port,
        vnc_password=generate_secret(),
        session_token_hash=hash_secret(token),
    )
    with running_daphne({"DATABASE_URL": live_database_url, "REDIS_URL": redis_url}) as base_url:
        url = base_url.replace("http", "ws") + f"/desktop/{session.hex_id}/vnc/websockify"
        header = {"Cookie": f"username=alice; session_token={token}"}
        with connect(url, origin=base_url, additional_headers=header, max_size=None, max_queue=4) as websocket:
            stream = handshake_as_browser(websocket)
            websocket.send(b"\x01")  # ClientInit: the workspace starts streaming
            time.sleep(2)  # the browser reads nothing; unbounded, the 256 MiB would pass in well under 1 s
            held_back_at = sent[0]
            received = len(stream.buffer)
            while received < STREAM:
                received += len(websocket.recv(timeout=15))
    # Socket buffers on both hops and the proxy's small queues, not the stream.
    assert held_back_at < 48 * 1024**2, f"the workspace sent {held_back_at >> 20} MiB to a browser reading nothing"
    assert received == STREAM and sent[0] == STREAM
