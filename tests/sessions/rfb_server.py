"""The workspace's side of the RFB handshake, for stub VNC servers in tests."""

import struct


async def accept_as_workspace(websocket) -> None:
    """Greet, offer security type None, accept, and read the client's ClientInit."""
    await websocket.send(b"RFB 003.008\n")
    await websocket.recv()
    await websocket.send(b"\x01\x01")
    await websocket.recv()
    await websocket.send(struct.pack(">I", 0))
    await websocket.recv()  # ClientInit
