"""The connection to a session's VNC server, authenticated with the session's secret: the desktop
proxy (consumers.py) and the screenshot (screenshot.py) both open it."""

from __future__ import annotations

import asyncio

import websockets

from apps.images.choices import StreamProtocol
from apps.sessions.proxy import kasmvnc_authorization
from apps.sessions.rfb import ByteReader, VncPasswordRefused, authenticate_to_server
from apps.sessions.workspace_tls import workspace_tls_context

UPSTREAM_READY_SECONDS = 15
SHARED_CLIENT_INIT = b"\x01"  # every client of a session shares its desktop


async def upstream_open(session, *, client_init: bool = False) -> tuple:
    """Connect and authenticate to the workspace's VNC server; returns (socket, reader). With
    `client_init`, a shared ClientInit follows at once, so that the ServerInit is on its way
    before the browser's own ClientInit reaches the proxy.

    Right after a launch the web server may answer while the VNC server behind it is still
    starting (the socket closes before the greeting): retry for a few seconds then. A claimed
    staged session whose new secret its agent is installing (`vnc_password_next`) is tried with
    that one when the workspace refuses the current one.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + UPSTREAM_READY_SECONDS
    passwords = [session.vnc_password] + ([session.vnc_password_next] if session.vnc_password_next else [])
    while True:
        upstream = await _upstream_connect(session)
        reader = ByteReader(upstream.recv)
        try:
            await authenticate_to_server(reader, upstream.send, passwords[0])
            if client_init:
                await upstream.send(SHARED_CLIENT_INIT)
            return upstream, reader
        except VncPasswordRefused:
            await upstream.close()
            if len(passwords) == 1:
                raise
            passwords.pop(0)
        except websockets.ConnectionClosed:
            await upstream.close()
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.01)
        except BaseException:  # refused, or no longer wanted (cancelled): never left open
            await upstream.close()
            raise


async def _upstream_connect(session):
    address, port = session.agent.address, session.host_port
    if session.image.stream_protocol == StreamProtocol.KASMVNC:
        # KasmVNC images serve HTTPS with a self-signed certificate and basic auth as kasm_user.
        return await websockets.connect(
            f"wss://{address}:{port}/websockify",
            ssl=workspace_tls_context(),
            subprotocols=["binary"],
            additional_headers={"Authorization": kasmvnc_authorization(session)},
            max_size=None,
            compression=None,
            open_timeout=10,
        )
    # No per-message compression: RFB frames are compressed by the VNC encodings already.
    return await websockets.connect(
        f"ws://{address}:{port}/websockify", subprotocols=["binary"], max_size=None, compression=None, open_timeout=10
    )
