"""Backpressure for WebSockets under daphne, both ways, offered to consumers as an ASGI extension.

ASGI has no flow control. daphne's `websocket.send` appends to the Twisted transport's write buffer
and returns at once: a workspace that draws faster than the browser reads would grow that buffer
without limit, and Twisted re-joins the whole pending buffer on its writes (measured with py-spy on
bench/proxy.py, half of daphne's time went to that copy). And daphne reads whatever the browser
sends into an unbounded queue, however slowly the application takes it.

Twisted's own mechanisms fix both: a push producer registered on the transport is paused when the
write buffer passes a limit and resumed once it has drained, and the transport itself stops and
resumes reading. The middleware registers a producer per WebSocket and puts a `FlowControl` into
the scope, which the session proxy uses. Under another server (or Channels' test communicator) the
extension is absent and `flow_control` gives a no-op.
"""

from __future__ import annotations

import asyncio
from functools import partial

from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

EXTENSION = "kasm.flow_control"
# Twisted pauses its producer above 64 KiB by default, i.e. after every frame of a busy desktop,
# which costs an event-loop round trip per frame: bench/proxy.py went from 55-62 % of direct
# throughput to 70-78 % with 1 MiB. Memory per socket stays bounded by this plus the kernel's.
# Twisted also hands the kernel at most 128 KiB per send(); one call for what is buffered took a
# tenth off daphne's CPU time for the benchmark's 1.25 GiB (2.51-2.81 s against 2.84-3.13 s).
WRITE_BUFFER_BYTES = 1024 * 1024
# Messages from the browser that may wait for the application before daphne stops reading.
INBOUND_MESSAGES = 64


@implementer(IPushProducer)
class TransportWritable:
    """A Twisted push producer that only records whether the transport wants more data."""

    def __init__(self) -> None:
        self._writable = asyncio.Event()
        self._writable.set()

    def pauseProducing(self) -> None:
        self._writable.clear()

    def resumeProducing(self) -> None:
        self._writable.set()

    def stopProducing(self) -> None:  # the connection is gone: nobody should wait for it
        self._writable.set()

    async def wait(self) -> None:
        await self._writable.wait()


class FlowControl:
    """What a consumer may ask of its WebSocket's transport."""

    def __init__(self, transport=None, writable: TransportWritable | None = None) -> None:
        self._transport, self._writable = transport, writable
        self._pause_reasons: set[str] = set()

    async def browser_writable(self) -> None:
        """Return once the browser's side can take more (at once where the server offers no flow control)."""
        if self._writable is not None:
            await self._writable.wait()

    def pause_reading(self, reason: str) -> None:
        """Stop reading the browser's socket, TCP holding the browser back, until every reason to
        pause has been withdrawn with `resume_reading`."""
        if self._transport is not None and not self._pause_reasons:
            self._transport.pauseProducing()
        self._pause_reasons.add(reason)

    def resume_reading(self, reason: str) -> None:
        if reason not in self._pause_reasons:
            return
        self._pause_reasons.discard(reason)
        if self._transport is not None and not self._pause_reasons:
            self._transport.resumeProducing()


def flow_control(scope: dict) -> FlowControl:
    return scope.get("extensions", {}).get(EXTENSION) or FlowControl()


def _daphne_protocol(send):
    """daphne's WebSocket protocol behind its `send`, which is `partial(server.handle_reply, protocol)`."""
    if isinstance(send, partial) and send.args and getattr(send.args[0], "transport", None) is not None:
        return send.args[0]
    return None


class WebSocketFlowControlMiddleware:
    """Registers a `TransportWritable` on each daphne WebSocket and puts a `FlowControl` in the scope."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        protocol = _daphne_protocol(send)
        if scope["type"] == "websocket" and protocol is not None:
            transport, writable = protocol.transport, TransportWritable()
            if getattr(transport, "producer", None) is not None:
                # daphne leaves the upgraded HTTP channel registered; it has nothing left to produce.
                transport.unregisterProducer()
            transport.bufferSize = transport.SEND_LIMIT = WRITE_BUFFER_BYTES
            transport.registerProducer(writable, True)
            control = FlowControl(transport, writable)
            scope = {**scope, "extensions": {**(scope.get("extensions") or {}), EXTENSION: control}}
            receive = _limit_inbound(protocol.application_queue, receive, control)
        return await self.application(scope, receive, send)


def _limit_inbound(queue: asyncio.Queue, receive, control: FlowControl):
    """daphne reads a browser's messages into `queue` as fast as they come, however slowly the
    application takes them: stop reading the socket while INBOUND_MESSAGES wait there."""
    daphne_put = queue.put_nowait

    def put_nowait(message) -> None:
        daphne_put(message)
        if queue.qsize() >= INBOUND_MESSAGES:
            control.pause_reading("daphne's queue")

    async def limited_receive():
        message = await receive()
        if queue.qsize() <= INBOUND_MESSAGES // 2:
            control.resume_reading("daphne's queue")
        return message

    queue.put_nowait = put_nowait  # daphne's only way in
    return limited_receive
