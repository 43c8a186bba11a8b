"""The RFB (VNC) handshake on both sides of the session proxy.

Towards the container the proxy is the client and answers VNC authentication with the session's
secret; towards the browser it is the server and offers security type None, so the secret never
leaves the server. After the handshake, bytes flow unchanged.
"""

from __future__ import annotations

import struct

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

RFB_VERSION = b"RFB 003.008\n"
SECURITY_NONE = 1
SECURITY_VNC_AUTH = 2


class RfbError(Exception):
    """The other side broke the handshake; the message says how."""


class ByteReader:
    """Exact reads over a stream of WebSocket messages that split bytes anywhere."""

    def __init__(self, receive):
        self._receive = receive  # async () -> bytes
        self._buffer = bytearray()

    async def read(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._buffer += await self._receive()
        data, self._buffer = bytes(self._buffer[:count]), self._buffer[count:]
        return data

    def leftover(self) -> bytes:
        data, self._buffer = bytes(self._buffer), bytearray()
        return data


def vnc_auth_response(password: str, challenge: bytes) -> bytes:
    """DES of the challenge with the password as key (8 bytes, each byte's bits mirrored: VNC's quirk)."""
    key = bytes(int(f"{byte:08b}"[::-1], 2) for byte in password.encode()[:8].ljust(8, b"\0"))
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()  # noqa: S305  (the protocol is DES-ECB)
    return encryptor.update(challenge) + encryptor.finalize()


async def authenticate_to_server(reader: ByteReader, send, password: str) -> None:
    """Client side of the handshake with the container, up to a successful SecurityResult."""
    version = await reader.read(12)
    if not version.startswith(b"RFB 003."):
        raise RfbError(f"the workspace did not greet with RFB ({version!r})")
    await send(RFB_VERSION)
    (count,) = await reader.read(1)
    if count == 0:
        (length,) = struct.unpack(">I", await reader.read(4))
        raise RfbError(f"the workspace refused the connection: {(await reader.read(length)).decode(errors='replace')}")
    offered = set(await reader.read(count))
    if SECURITY_VNC_AUTH in offered:
        await send(bytes([SECURITY_VNC_AUTH]))
        await send(vnc_auth_response(password, await reader.read(16)))
    elif SECURITY_NONE in offered:
        await send(bytes([SECURITY_NONE]))
    else:
        raise RfbError(f"the workspace offers no supported security type ({sorted(offered)})")
    (result,) = struct.unpack(">I", await reader.read(4))
    if result != 0:
        raise RfbError("the workspace refused the session's VNC password")


async def accept_client(reader: ByteReader, send) -> None:
    """Server side of the handshake with the browser: security type None, then SecurityResult OK."""
    await send(RFB_VERSION)
    version = await reader.read(12)
    if not version.startswith(b"RFB 003."):
        raise RfbError(f"the client did not answer with an RFB version ({version!r})")
    await send(bytes([1, SECURITY_NONE]))
    (choice,) = await reader.read(1)
    if choice != SECURITY_NONE:
        raise RfbError(f"the client chose security type {choice}; only None (1) is offered")
    await send(struct.pack(">I", 0))


# Client-to-server message types (RFC 6143 and common extensions) and their fixed lengths.
SET_PIXEL_FORMAT, SET_ENCODINGS, FRAMEBUFFER_UPDATE_REQUEST = 0, 2, 3
KEY_EVENT, POINTER_EVENT, CLIENT_CUT_TEXT = 4, 5, 6
ENABLE_CONTINUOUS_UPDATES, CLIENT_FENCE, XVP, QEMU = 150, 248, 250, 255
FIXED_LENGTHS = {
    SET_PIXEL_FORMAT: 20,
    FRAMEBUFFER_UPDATE_REQUEST: 10,
    KEY_EVENT: 8,
    POINTER_EVENT: 6,
    ENABLE_CONTINUOUS_UPDATES: 10,
    XVP: 4,
}
# What a viewer may send: only what shapes its own copy of the screen. Input (keys, pointer,
# clipboard, xvp power actions, QEMU key events) is dropped.
VIEWER_FORWARDED = frozenset(
    {SET_PIXEL_FORMAT, SET_ENCODINGS, FRAMEBUFFER_UPDATE_REQUEST, ENABLE_CONTINUOUS_UPDATES, CLIENT_FENCE}
)


# The most clipboard text a client may announce in one ClientCutText. Larger announcements end the
# connection: a proxy that honoured 2 GiB would have to read (or hold) all of it.
MAX_CLIENT_CUT_TEXT = 10 * 1024**2


class ClientMessageFilter:
    """The browser's side of an RFB stream after the security handshake, message by message.

    The first byte is ClientInit: it is always sent as "shared", so a client cannot disconnect the
    others. For a view-only client every message is parsed and only VIEWER_FORWARDED ones pass;
    dropped messages are skipped as their bytes arrive, never buffered whole. A message type we
    cannot size, or a clipboard larger than MAX_CLIENT_CUT_TEXT, ends the connection (RfbError)
    rather than pass unchecked.
    """

    def __init__(self, *, view_only: bool):
        self.view_only = view_only
        self._client_init_sent = False
        self._buffer = bytearray()
        self._skipping = 0  # bytes of a dropped message still to come

    def feed(self, data: bytes) -> bytes:
        if not self._client_init_sent:
            if not data:
                return b""
            self._client_init_sent = True
            return b"\x01" + self.feed(data[1:])
        if not self.view_only:
            return data
        self._buffer += data
        forwarded = bytearray()
        while self._buffer:
            if self._skipping:
                skipped = min(self._skipping, len(self._buffer))
                del self._buffer[:skipped]
                self._skipping -= skipped
                continue
            length = _client_message_length(self._buffer)
            if length is None:
                break
            if self._buffer[0] not in VIEWER_FORWARDED:
                self._skipping = length
            elif len(self._buffer) >= length:
                forwarded += self._buffer[:length]
                del self._buffer[:length]
            else:
                break  # a forwarded message is small (at most 256 KiB of encodings): wait for the rest
        return bytes(forwarded)


def _client_message_length(buffer: bytearray) -> int | None:
    """Length of the message at the start of `buffer`, or None until enough of it has arrived."""
    kind = buffer[0]
    if kind in FIXED_LENGTHS:
        return FIXED_LENGTHS[kind]
    if kind == SET_ENCODINGS:
        return None if len(buffer) < 4 else 4 + 4 * struct.unpack(">H", buffer[2:4])[0]
    if kind == CLIENT_CUT_TEXT:  # a negative length is the extended clipboard's; its size is the absolute value
        return None if len(buffer) < 8 else 8 + _cut_text_length(buffer)
    if kind == CLIENT_FENCE:
        return None if len(buffer) < 9 else 9 + buffer[8]
    if kind == QEMU:
        if len(buffer) < 2:
            return None
        if buffer[1] == 0:  # extended key event
            return 12
    raise RfbError(f"a view-only client sent RFB message type {kind}, which the proxy does not pass")


def _cut_text_length(buffer: bytearray) -> int:
    length = abs(struct.unpack(">i", buffer[4:8])[0])
    if length > MAX_CLIENT_CUT_TEXT:
        raise RfbError(f"a client announced {length:,} bytes of clipboard; at most {MAX_CLIENT_CUT_TEXT:,} pass")
    return length
