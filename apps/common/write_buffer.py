"""Backpressure for WebSocket sends under daphne, offered to consumers as the ASGI extension below.

ASGI has no flow control: daphne's `websocket.send` appends to the Twisted transport's write
buffer and returns at once. A workspace that draws faster than the browser reads would grow that
buffer without limit, and Twisted re-joins the whole pending buffer on its writes: measured with
py-spy on bench/proxy.py, half of daphne's time went to that copy. Twisted's own mechanism is a
push producer registered on the transport, paused when its buffer passes a limit and resumed once
it has drained; the middleware registers one per WebSocket and puts a "wait until the browser can take
more" coroutine into the scope, which the session proxy awaits after each send. Under another server
(or Channels' test communicator) the extension is absent and sends are not held back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial

from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

EXTENSION = "kasm.write_buffer"
# Twisted pauses its producer above 64 KiB by default, i.e. after every frame of a busy desktop,
# which costs an event-loop round trip per frame: bench/proxy.py went from 55-62 % of direct
# throughput to 70-78 % with 1 MiB. Memory per socket stays bounded by this plus the kernel's.
# Twisted also hands the kernel at most 128 KiB per send(); one call for what is buffered took a
# tenth off daphne's CPU time for the benchmark's 1.25 GiB (2.51-2.81 s against 2.84-3.13 s).
WRITE_BUFFER_BYTES = 1024 * 1024


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

    def stopProducing(self) -> None:
        self._writable.set()

    async def wait(self) -> None:
        await self._writable.wait()


def _daphne_transport(send: Callable):
    """The Twisted transport behind daphne's `send`, which is `partial(server.handle_reply, protocol)`."""
    if isinstance(send, partial) and send.args:
        return getattr(send.args[0], "transport", None)
    return None


def browser_writable(scope: dict) -> Callable[[], Awaitable[None]]:
    """The scope's "wait until the browser can take more", or a no-op where the server offers none."""
    return scope.get("extensions", {}).get(EXTENSION, _always_writable)


async def _always_writable() -> None:
    return None


class WebSocketWriteBufferMiddleware:
    """Registers a `TransportWritable` on each daphne WebSocket and exposes its `wait` in the scope."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        transport = _daphne_transport(send)
        if scope["type"] == "websocket" and transport is not None:
            producer = TransportWritable()
            if getattr(transport, "producer", None) is not None:
                # daphne leaves the upgraded HTTP channel registered; it has nothing left to produce.
                transport.unregisterProducer()
            transport.bufferSize = transport.SEND_LIMIT = WRITE_BUFFER_BYTES
            transport.registerProducer(producer, True)
            scope = {**scope, "extensions": {**(scope.get("extensions") or {}), EXTENSION: producer.wait}}
        return await self.application(scope, receive, send)
