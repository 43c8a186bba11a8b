"""The proxy's WebSocket against a stub workspace on loopback: it bridges a session that is still
starting as soon as it runs, and a browser that stops reading holds the workspace back."""

import asyncio
import contextlib
import socket
import threading
import time
from contextlib import contextmanager

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from apps.sessions.services import session_mark_failed, session_mark_running
from tests.servers import free_port, running_daphne
from tests.sessions.rfb_client import Stream, handshake_as_browser
from tests.sessions.rfb_server import accept_as_workspace, accept_with_vnc_auth, serve_in_background
from tests.sessions.stub_sessions import stub_session

pytestmark = pytest.mark.django_db(transaction=True)
CHUNK = 64 * 1024
STREAM = 256 * 1024**2


def start_workspace(
    port: int,
    *,
    stream: int = 0,
    sent: list[int] | None = None,
    deaf: bool = False,
    greet_after: threading.Event | None = None,
) -> None:
    """An RFB server (security None) that streams `stream` bytes after ClientInit, counting in `sent`,
    then echoes; or, `deaf`, reads nothing more after ClientInit. With `greet_after`, it says
    nothing until that event is set."""

    async def workspace(websocket) -> None:
        if greet_after is not None:
            await asyncio.get_running_loop().run_in_executor(None, greet_after.wait)
        await accept_as_workspace(websocket)
        for _ in range(stream // CHUNK):
            await websocket.send(b"\x00" * CHUNK)  # waits while the proxy does not read
            sent[0] += CHUNK
        if deaf:
            await asyncio.Future()
        async for message in websocket:
            await websocket.send(message)

    serve_in_background(workspace, port, max_size=None, compression=None)


@contextmanager
def desktop_socket(session: Session, token: str, env: dict, **options):
    """The browser's WebSocket to the session's desktop through daphne, with the API's cookies."""
    with running_daphne(env) as base_url:
        url = base_url.replace("http", "ws") + f"/desktop/{session.hex_id}/vnc/websockify"
        header = {"Cookie": f"username={session.owner.username}; session_token={token}"}
        with connect(url, origin=base_url, additional_headers=header, max_size=None, **options) as websocket:
            yield websocket, base_url


@pytest.fixture
def daphne_env(live_database_url, redis_url) -> dict:
    return {"DATABASE_URL": live_database_url, "REDIS_URL": redis_url}


def test_a_socket_opened_while_the_session_starts_is_bridged_once_it_runs(alice, daphne_env):
    port = free_port()
    start_workspace(port)
    session, token = stub_session(alice, status=SessionStatus.PROVISIONING)
    with desktop_socket(session, token, daphne_env) as (websocket, _):
        with pytest.raises(TimeoutError):
            websocket.recv(timeout=0.5)  # nothing to greet the browser with yet
        started = time.monotonic()
        session_mark_running(session=session, container_id="stub", host_port=port)
        stream = handshake_as_browser(websocket)
        bridged_after = time.monotonic() - started
        websocket.send(b"\x01")  # ClientInit
        websocket.send(b"after the start")
        assert stream.read(15) == b"after the start"
    assert bridged_after < 0.9, f"bridged {bridged_after:.2f} s after the start: the status push was missed"


def test_the_browser_is_greeted_while_the_workspace_is_still_connecting(alice, daphne_env):
    """The two handshakes overlap: the proxy's greeting does not wait for the workspace's."""
    port, workspace_greets = free_port(), threading.Event()
    start_workspace(port, greet_after=workspace_greets)
    session, token = stub_session(alice, port=port)
    with desktop_socket(session, token, daphne_env) as (websocket, _):
        stream = handshake_as_browser(websocket)  # the workspace has not said a word yet
        websocket.send(b"\x01")  # ClientInit: held until the workspace's handshake is done
        workspace_greets.set()
        websocket.send(b"through")
        assert stream.read(7) == b"through"


def test_the_handshake_runs_ahead_of_the_browsers_answers(alice, daphne_env):
    """The proxy sends its whole side of the handshake at once, and the workspace a ClientInit of
    its own: a browser busy loading the page pays no round trip for either."""
    port = free_port()
    start_workspace(port, stream=CHUNK, sent=[0])
    session, token = stub_session(alice, port=port)
    with desktop_socket(session, token, daphne_env) as (websocket, _):
        stream = Stream(websocket)
        assert stream.read(18) == b"RFB 003.008\n" + b"\x01\x01" + bytes(4)  # before the browser says a word
        websocket.send(b"RFB 003.008\n")
        websocket.send(b"\x01")  # security None
        assert stream.read(CHUNK) == bytes(CHUNK)  # the workspace's first bytes, before the browser's ClientInit
        websocket.send(b"\x01")  # the browser's ClientInit: the workspace had the proxy's, this one is dropped
        websocket.send(b"echo")
        assert stream.read(4) == b"echo"


def start_vnc_auth_workspace(port: int, password: str) -> None:
    """An RFB server with VNC authentication that accepts only `password`, then echoes."""

    async def workspace(websocket) -> None:
        if await accept_with_vnc_auth(websocket, password):
            await websocket.recv()  # ClientInit
            async for message in websocket:
                await websocket.send(message)

    serve_in_background(workspace, port, max_size=None, compression=None)


def test_a_claimed_staged_session_is_reached_with_its_new_secret_before_its_agent_reports(alice, daphne_env):
    """The agent has installed the new secret in the container, and its report is still on the way."""
    port = free_port()
    start_vnc_auth_workspace(port, "claimed-secret")
    session, token = stub_session(alice, port=port, vnc_password="staged-secret")
    Session.objects.filter(pk=session.pk).update(vnc_password_next="claimed-secret")
    with desktop_socket(session, token, daphne_env) as (websocket, _):
        stream = handshake_as_browser(websocket)
        websocket.send(b"\x01")  # ClientInit
        websocket.send(b"through")
        assert stream.read(7) == b"through"


def test_a_socket_waiting_for_a_session_that_fails_is_closed(alice, daphne_env):
    session, token = stub_session(alice, status=SessionStatus.PROVISIONING)
    with desktop_socket(session, token, daphne_env) as (websocket, _):
        session_mark_failed(session=session, reason="image missing")
        with pytest.raises(Exception) as closed:
            websocket.recv(timeout=5)
    assert closed.value.rcvd.code == 4502


def test_a_socket_waiting_for_a_session_that_is_removed_is_closed(alice, daphne_env):
    """No status push announces a removed row: the proxy's re-read every second notices it."""
    session, token = stub_session(alice, status=SessionStatus.PROVISIONING)
    with desktop_socket(session, token, daphne_env) as (websocket, _):
        Session.objects.filter(pk=session.pk).delete()
        with pytest.raises(Exception) as closed:
            websocket.recv(timeout=5)
    assert closed.value.rcvd.code == 4502


def test_a_starting_session_refuses_a_wrong_token(alice, daphne_env):
    session, _ = stub_session(alice, status=SessionStatus.PROVISIONING)
    with pytest.raises(InvalidStatus, match="403"), desktop_socket(session, "wrong-token", daphne_env):
        pass


def test_a_browser_that_stops_reading_stops_the_workspace_not_the_servers_memory(alice, daphne_env):
    port, sent = free_port(), [0]
    start_workspace(port, stream=STREAM, sent=sent)
    session, token = stub_session(alice, port=port)
    with desktop_socket(session, token, daphne_env, max_queue=4) as (websocket, _):
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


def test_a_workspace_that_stops_reading_stops_the_browser_not_the_servers_memory(alice, daphne_env):
    port = free_port()
    start_workspace(port, deaf=True)
    session, token = stub_session(alice, port=port)
    pushed, chunk = [0], b"\x05" + b"\x00" * (CHUNK - 1)  # pointer events, as far as anyone can tell

    def push_input(websocket) -> None:
        with contextlib.suppress(Exception):  # ends when the socket closes
            while pushed[0] < STREAM:
                websocket.send(chunk)  # blocks once nobody reads
                pushed[0] += CHUNK

    with desktop_socket(session, token, daphne_env) as (websocket, _):
        handshake_as_browser(websocket)
        websocket.send(b"\x01")  # ClientInit
        threading.Thread(target=push_input, args=(websocket,), daemon=True).start()
        time.sleep(2)  # unbounded, daphne would read the 256 MiB into memory in well under 2 s
        held_back_at = pushed[0]
        websocket.socket.shutdown(socket.SHUT_RDWR)  # the pusher is stuck in a send nobody reads
    assert held_back_at < 48 * 1024**2, f"the browser pushed {held_back_at >> 20} MiB to a workspace reading nothing"
