"""Group policy on the live RFB stream through daphne: the clipboard either way, and idle disconnect.

A stub workspace on loopback sends its ServerInit, a ServerCutText and a framebuffer update, and
records what reaches it from the browser.
"""

import struct
import time

import pytest
from websockets.exceptions import ConnectionClosed

from apps.common.close_codes import CLOSE_IDLE
from tests.policies import all_users_policy
from tests.servers import free_port
from tests.sessions.rfb_client import handshake_as_browser
from tests.sessions.rfb_server import accept_as_workspace, serve_in_background
from tests.sessions.stub_sessions import stub_session
from tests.sessions.test_proxy_stream import daphne_env, desktop_socket  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

SERVER_INIT = struct.pack(">HH", 4, 2) + bytes([32, 24, 0, 1]) + bytes(12) + struct.pack(">I", 4) + b"desk"
SERVER_CUT_TEXT = b"\x03\x00\x00\x00" + struct.pack(">I", 6) + b"secret"
UPDATE = b"\x00\x00\x00\x01" + struct.pack(">HHHHi", 0, 0, 1, 1, 0) + b"\x10\x20\x30\x00"
KEY_EVENT = b"\x04\x01\x00\x00" + struct.pack(">I", 0x61)
CLIENT_CUT_TEXT = b"\x06\x00\x00\x00" + struct.pack(">I", 5) + b"paste"


def start_workspace(port: int, received: list[bytes]) -> None:
    """An RFB server (security None): after ClientInit, ServerInit + clipboard + one update; then
    it keeps what the browser sends in `received`."""

    async def workspace(websocket) -> None:
        await accept_as_workspace(websocket)
        await websocket.send(SERVER_INIT + SERVER_CUT_TEXT + UPDATE)
        async for message in websocket:
            received.append(message)

    serve_in_background(workspace, port, max_size=None, compression=None)


def connect_as_owner(alice, daphne_env):  # noqa: F811
    port, received = free_port(), []
    start_workspace(port, received)
    session, token = stub_session(alice, port=port)
    return desktop_socket(session, token, daphne_env), received


def read_after_init(stream, count: int) -> bytes:
    stream.websocket.send(b"\x01")  # ClientInit
    assert stream.read(len(SERVER_INIT)) == SERVER_INIT
    return stream.read(count)


@pytest.mark.parametrize("allowed", [True, False])
def test_server_cut_text_reaches_the_browser_only_when_clipboard_down_is_allowed(alice, daphne_env, allowed):  # noqa: F811
    all_users_policy(allow_clipboard_down=allowed)
    socket, _ = connect_as_owner(alice, daphne_env)
    with socket as (websocket, _):
        stream = handshake_as_browser(websocket)
        expected = (SERVER_CUT_TEXT if allowed else b"") + UPDATE
        assert read_after_init(stream, len(expected)) == expected


@pytest.mark.parametrize("allowed", [True, False])
def test_client_cut_text_reaches_the_workspace_only_when_clipboard_up_is_allowed(alice, daphne_env, allowed):  # noqa: F811
    all_users_policy(allow_clipboard_up=allowed)
    socket, received = connect_as_owner(alice, daphne_env)
    with socket as (websocket, _):
        stream = handshake_as_browser(websocket)
        read_after_init(stream, len(SERVER_CUT_TEXT + UPDATE))
        websocket.send(CLIENT_CUT_TEXT + KEY_EVENT)
        deadline = time.monotonic() + 5
        while KEY_EVENT not in b"".join(received) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert b"".join(received) == (CLIENT_CUT_TEXT if allowed else b"") + KEY_EVENT


def test_an_idle_owner_is_disconnected_and_input_keeps_the_desktop_open(alice, daphne_env):  # noqa: F811
    all_users_policy(idle_disconnect=0.025)  # 1.5 s
    socket, _ = connect_as_owner(alice, daphne_env)
    with socket as (websocket, _):
        stream = handshake_as_browser(websocket)
        read_after_init(stream, len(SERVER_CUT_TEXT + UPDATE))
        opened = time.monotonic()
        for _ in range(6):  # 3 s of typing
            websocket.send(KEY_EVENT)
            time.sleep(0.5)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                websocket.recv(timeout=10)
        idle_for = time.monotonic() - opened - 2.5
    assert closed.value.rcvd.code == CLOSE_IDLE
    assert 1.0 < idle_for < 5, f"closed {idle_for:.1f} s after the last key"
