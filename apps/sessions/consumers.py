"""The session proxy's WebSocket: the browser's RFB stream to the container, authenticated by us."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import websockets
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from apps.accounts.selectors import user_policy
from apps.common.close_codes import CLOSE_FORBIDDEN, CLOSE_IDLE, CLOSE_UPSTREAM_FAILED
from apps.common.flow_control import flow_control
from apps.common.realtime import user_group
from apps.common.runtime_settings import runtime_setting
from apps.sessions.choices import SessionStatus
from apps.sessions.rfb import (
    ByteReader,
    ClientMessageFilter,
    RfbError,
    RfbStreamState,
    ServerMessageFilter,
    accept_client,
)
from apps.sessions.selectors import session_for_proxy, session_get, session_is_reachable
from apps.sessions.services import TOPIC_ACCESS_REVOKED, TOPIC_SESSION_STATUS
from apps.sessions.sharing import share_event_ends_access, share_group_of
from apps.sessions.upstream import upstream_open

logger = logging.getLogger(__name__)
# Browser messages waiting for the workspace before the proxy stops reading the browser's socket.
BROWSER_QUEUE_LIMIT = 64


class SessionNotStarting(Exception):
    """The session a socket waited for ended up in another state than running (error, deleted)."""


class SessionVncProxyConsumer(AsyncWebsocketConsumer):
    upstream = None
    upstream_opening: asyncio.Task | None = None

    async def connect(self) -> None:
        kasm_id = self.scope["url_route"]["kwargs"]["kasm_id"]
        # Listen for the share ending (or a kick) before checking access, so that a revocation in
        # between is never missed: its event waits in this socket's channel until connect returns.
        self.share_group = share_group_of(kasm_id)
        await self.channel_layer.group_add(self.share_group, self.channel_name)
        access, policy = await self._access(kasm_id)
        if access is not None:
            # Likewise for a logout everywhere, a lock or a disable of this user: join, then check again.
            self.revocation_group = user_group(access.user_id)
            await self.channel_layer.group_add(self.revocation_group, self.channel_name)
            access, policy = await self._access(kasm_id, with_policy=True)
        if access is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if not access.view_only:  # the owner's socket does not end with the share
            await self.channel_layer.group_discard(self.share_group, self.channel_name)
            self.share_group = None
        session, self.access = access.session, access
        self._apply_policy(access, policy)
        self.from_browser: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.flow = flow_control(self.scope)
        subprotocol = "binary" if "binary" in self.scope.get("subprotocols", []) else None
        if not session_is_reachable(session):
            # Launched a moment ago: take the socket now and bridge it as soon as the workspace is up,
            # so a client connects once instead of polling us while the container starts.
            self.status_changed, self.status_group = asyncio.Event(), user_group(session.owner_id)
            if self.status_group != self.revocation_group:  # a viewer; the owner is in that group already
                await self.channel_layer.group_add(self.status_group, self.channel_name)
        await self.accept(subprotocol)
        self.pump = asyncio.create_task(self._bridge(session))

    def _apply_policy(self, access, policy) -> None:
        """The owner's group policy shapes the stream: clipboard either way, and idle disconnect."""
        self.stream_state = RfbStreamState()
        self.idle_seconds = 0 if access.view_only else policy.idle_disconnect_seconds
        self.last_input = asyncio.get_running_loop().time()
        self.client_filter = ClientMessageFilter(
            view_only=access.view_only,
            allow_clipboard_up=policy.allow_clipboard_up,
            allow_clipboard_down=policy.allow_clipboard_down,
            on_input=self._input_seen if self.idle_seconds else None,
            state=self.stream_state,
            client_init_sent=True,  # upstream_open(client_init=True) sends the workspace its own
        )
        self.server_filter = None if policy.allow_clipboard_down else ServerMessageFilter(self.stream_state)

    def _input_seen(self) -> None:
        self.last_input = asyncio.get_running_loop().time()

    async def _close_when_idle(self) -> None:
        """No keyboard or mouse input from the owner for the policy's idle time closes the socket."""
        loop = asyncio.get_running_loop()
        while (remaining := self.last_input + self.idle_seconds - loop.time()) > 0:
            await asyncio.sleep(remaining)
        logger.info("Closing idle desktop of session %s", self.access.session.hex_id)
        await self.from_browser.put(None)
        await self.close(code=CLOSE_IDLE)

    async def _access(self, kasm_id, *, with_policy: bool = False) -> tuple:
        """(access or None, the session owner's policy when `with_policy` and access), in one trip
        to the database thread."""

        def check():
            access = session_for_proxy(
                kasm_id=kasm_id,
                user=self.scope.get("user"),
                cookies=self.scope.get("cookies", {}),
                browser_session=self.scope.get("session"),
            )
            return access, user_policy(access.session.owner) if with_policy and access else None

        # Off the one thread that Django's views and other sockets share: a desktop opening while its
        # page loads does not queue behind that page's other requests. Only reads, and channels
        # closes the thread's connection after the call.
        return await database_sync_to_async(check, thread_sensitive=False)()

    async def receive(self, text_data=None, bytes_data=None) -> None:
        await self.from_browser.put(bytes_data if bytes_data is not None else text_data.encode())
        if self.from_browser.qsize() >= BROWSER_QUEUE_LIMIT:
            self.flow.pause_reading("proxy queue")  # the workspace is not keeping up: TCP holds the browser back

    async def _next_from_browser(self) -> bytes | None:
        data = await self.from_browser.get()
        if self.from_browser.qsize() <= BROWSER_QUEUE_LIMIT // 2:
            self.flow.resume_reading("proxy queue")
        return data

    async def live_update(self, event: dict) -> None:
        """A starting session changed status; or the socket ends: the share ended, this viewer was
        kicked, or this user's access was revoked."""
        if event["topic"] == TOPIC_SESSION_STATUS:
            if event["payload"]["kasm_id"] == self.access.session.hex_id and hasattr(self, "status_changed"):
                self.status_changed.set()
        elif share_event_ends_access(event, self.access.user_id) or event["topic"] == TOPIC_ACCESS_REVOKED:
            await self.from_browser.put(None)
            await self.close(code=CLOSE_FORBIDDEN)

    async def disconnect(self, code) -> None:
        groups = ("share_group", "status_group", "revocation_group")
        for group in {getattr(self, name, None) for name in groups}:
            if group:
                await self.channel_layer.group_discard(group, self.channel_name)
        if hasattr(self, "from_browser"):
            await self.from_browser.put(None)
        if self.upstream is not None:
            await self.upstream.close()
        elif getattr(self, "pump", None):
            self.pump.cancel()  # still waiting for the workspace: nobody is left to bridge
            await self._upstream_abandon()

    async def _browser_bytes(self) -> bytes:
        data = await self._next_from_browser()
        if data is None:
            raise ConnectionError("the browser went away")
        return data

    async def _send_to_browser(self, data: bytes) -> None:
        await self.send(bytes_data=data)

    async def _bridge(self, session) -> None:
        """Greet the browser while the workspace's connection opens (once it runs, for a session
        still starting), then relay both ways: the two handshakes overlap instead of adding up."""
        try:
            if not session_is_reachable(session):
                session = await self._wait_until_running(session)
                if self.status_group != self.revocation_group:  # the owner stays in their group for revocations
                    await self.channel_layer.group_discard(self.status_group, self.channel_name)
                self.status_group = None
        except (TimeoutError, SessionNotStarting) as error:
            await self._upstream_failed(session, error)
            return
        self.upstream_opening = asyncio.create_task(upstream_open(session, client_init=True))
        browser_reader = ByteReader(self._browser_bytes)
        try:
            await accept_client(browser_reader, self._send_to_browser)
        except (RfbError, ConnectionError) as error:
            logger.info("Session proxy closed during the browser's handshake: %s", error)
            await self._upstream_abandon()
            await self.close()
            return
        try:
            self.upstream, upstream_reader = await self.upstream_opening
        except (OSError, RfbError, websockets.WebSocketException) as error:
            await self._upstream_failed(session, error)
            return
        await self._relay(browser_reader, upstream_reader)

    async def _upstream_failed(self, session, error: Exception) -> None:
        logger.warning("Proxy could not reach session %s: %s", session.hex_id, error)
        await self.close(code=CLOSE_UPSTREAM_FAILED)

    async def _upstream_abandon(self) -> None:
        """The workspace's connection is not needed after all: stop opening it, or close it."""
        opening = self.upstream_opening
        if opening is None:
            return
        if opening.done() and not opening.cancelled() and opening.exception() is None:
            upstream, _ = opening.result()
            await upstream.close()
        else:
            opening.cancel()

    async def _wait_until_running(self, session):
        """The session, re-read once it runs. Woken by its status pushes, and re-read every second
        anyway, since the embedded in-memory channel layer does not cross processes."""
        timeout = await database_sync_to_async(runtime_setting)("SESSION_START_TIMEOUT_SECONDS")
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            self.status_changed.clear()
            current = await database_sync_to_async(session_get)(session.pk)
            if current is None:
                raise SessionNotStarting("the session was removed")
            if session_is_reachable(current):
                return current
            if current.status not in SessionStatus.STARTING_UP:
                raise SessionNotStarting(f"the session is {current.status}, not starting")
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"the session did not start in {timeout} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.status_changed.wait(), timeout=min(1, remaining))

    async def _relay(self, browser_reader: ByteReader, upstream_reader: ByteReader) -> None:
        try:
            if self.idle_seconds:
                self.idle_watch = asyncio.create_task(self._close_when_idle())
            await asyncio.gather(
                self._browser_to_upstream(browser_reader.leftover()),
                self._upstream_to_browser(upstream_reader),
            )
        except (RfbError, ConnectionError, websockets.ConnectionClosed) as error:
            logger.info("Session proxy closed: %s", error)
        finally:
            if getattr(self, "idle_watch", None):
                self.idle_watch.cancel()
            await self.upstream.close()
            await self.close()

    async def _browser_to_upstream(self, pending: bytes) -> None:
        data = pending
        while data is not None:
            forwarded = self.client_filter.feed(data)  # a viewer's input is dropped here
            if forwarded:
                await self.upstream.send(forwarded)  # waits while the container's side is full: backpressure
            data = await self._next_from_browser()
        await self.upstream.close()

    async def _upstream_to_browser(self, upstream_reader: ByteReader) -> None:
        if self.server_filter is not None:  # the clipboard from the session is withheld
            pending = upstream_reader.leftover()

            async def receive() -> bytes:
                nonlocal pending
                data, pending = pending, b""
                return data or _as_bytes(await self.upstream.recv())

            await self.server_filter.relay(receive, self._send_held_back)
            return
        pending = upstream_reader.leftover()
        if pending:
            await self.send(bytes_data=pending)
        async for message in self.upstream:
            await self._send_held_back(_as_bytes(message))
        await self.from_browser.put(None)

    async def _send_held_back(self, data: bytes) -> None:
        await self.send(bytes_data=data)
        await self.flow.browser_writable()  # a slow browser holds the container back, not our memory


def _as_bytes(message) -> bytes:
    return message if isinstance(message, bytes) else message.encode()
