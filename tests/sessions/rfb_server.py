"""The workspace's side of the RFB handshake, and a thread to serve it from, for stub VNC servers
in tests."""

import asyncio
import struct
import threading
import time

from websockets.asyncio.server import serve

from apps.sessions.rfb import vnc_auth_response

CHALLENGE = bytes(range(16))


def serve_in_background(handler, port: int, **options) -> None:
    """`handler` serving WebSockets on 127.0.0.1:`port` (websockets' `serve` options), from a daemon
    thread of its own; returns once it has had a moment to listen."""

    async def main() -> None:
        async with serve(handler, "127.0.0.1", port, **options):
            await asyncio.Future()

    threading.Thread(target=lambda: asyncio.run(main()), daemon=True).start()
    time.sleep(0.3)


async def accept_as_workspace(websocket) -> None:
    """Greet, offer security type None, accept, and read the client's ClientInit."""
    await websocket.send(b"RFB 003.008\n")
    await websocket.recv()
    await websocket.send(b"\x01\x01")
    await websocket.recv()
    await websocket.send(struct.pack(">I", 0))
    await websocket.recv()  # ClientInit


async def accept_with_vnc_auth(websocket, password: str) -> bool:
    """Greet, offer VNC authentication only, check the client's answer to CHALLENGE against
    `password` and send the SecurityResult; whether it was accepted."""
    await websocket.send(b"RFB 003.008\n")
    await websocket.recv()
    await websocket.send(b"\x01\x02")
    await websocket.recv()
    await websocket.send(CHALLENGE)
    accepted = await websocket.recv() == vnc_auth_response(password, CHALLENGE)
    await websocket.send(struct.pack(">I", 0 if accepted else 1))
    return accepted
