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


class VncPasswordRefused(RfbError):
    """The workspace's VNC server refused the password."""


class ByteReader:
    """Exact reads over a stream of WebSocket messages that split bytes anywhere."""

    def __init__(self, receive, *, on_starve=None):
        self._receive = receive  # async () -> bytes
        self._on_starve = on_starve  # async (): called before waiting for more bytes
        self._buffer = bytearray()

    async def read(self, count: int) -> bytes:
        while len(self._buffer) < count:
            await self._fill()
        data, self._buffer = bytes(self._buffer[:count]), self._buffer[count:]
        return data

    async def read_some(self, limit: int) -> bytes:
        """What has arrived, up to `limit` bytes (at least one): large payloads stream through."""
        if not self._buffer:
            await self._fill()
        data, self._buffer = bytes(self._buffer[:limit]), self._buffer[limit:]
        return data

    async def _fill(self) -> None:
        if self._on_starve is not None:
            await self._on_starve()
        self._buffer += await self._receive()

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
        raise VncPasswordRefused("the workspace refused the session's VNC password")


async def accept_client(reader: ByteReader, send) -> None:
    """Server side of the handshake with the browser: security type None, then SecurityResult OK.

    The three are sent at once, as separate messages, without waiting for the client's version
    and choice in between: with one security type and nothing to authenticate (the browser's
    socket was authorised when it opened), the answers cannot change them, and a browser busy
    loading the page reads them all at once instead of paying a round trip for each. The answers
    are checked as they arrive; a wrong one ends the connection."""
    await send(RFB_VERSION)
    await send(bytes([1, SECURITY_NONE]))
    await send(struct.pack(">I", 0))
    version = await reader.read(12)
    if not version.startswith(b"RFB 003."):
        raise RfbError(f"the client did not answer with an RFB version ({version!r})")
    (choice,) = await reader.read(1)
    if choice != SECURITY_NONE:
        raise RfbError(f"the client chose security type {choice}; only None (1) is offered")


# Client-to-server message types (RFC 6143 and common extensions) and their fixed lengths.
SET_PIXEL_FORMAT, SET_ENCODINGS, FRAMEBUFFER_UPDATE_REQUEST = 0, 2, 3
KEY_EVENT, POINTER_EVENT, CLIENT_CUT_TEXT = 4, 5, 6
ENABLE_CONTINUOUS_UPDATES, CLIENT_FENCE, XVP, SET_DESKTOP_SIZE, QEMU = 150, 248, 250, 251, 255
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


# Input: what resets the owner's idle timer.
INPUT_MESSAGES = frozenset({KEY_EVENT, POINTER_EVENT, CLIENT_CUT_TEXT, QEMU})
# Encodings a client may ask for while the clipboard from the session is withheld: those whose
# rectangles the proxy can size (ServerMessageFilter), so that every ServerCutText is found.
RAW, COPY_RECT, ZRLE = 0, 1, 16
CURSOR, DESKTOP_SIZE, LAST_RECT, DESKTOP_NAME, EXTENDED_DESKTOP_SIZE = -239, -223, -224, -307, -308
SIZED_ENCODINGS = frozenset(
    {RAW, COPY_RECT, ZRLE, CURSOR, DESKTOP_SIZE, LAST_RECT, DESKTOP_NAME, EXTENDED_DESKTOP_SIZE}
    | {-258, -309, -312, -313}  # QEMU keys, xvp, fence, continuous updates: acknowledged without pixel data
    | set(range(-256, -246))  # compression levels
    | set(range(-32, -22))  # JPEG quality levels
)


class RfbStreamState:
    """What both directions of one proxied stream share: the pixel size the server sends in (from
    ServerInit, then the client's SetPixelFormat)."""

    def __init__(self):
        self.bytes_per_pixel = 4


class ClientMessageFilter:
    """The browser's side of an RFB stream after the security handshake, message by message.

    The first byte is ClientInit: it is always sent as "shared", so a client cannot disconnect the
    others; or, with `client_init_sent` (the proxy sent the workspace a shared ClientInit of its
    own as soon as it connected), it is dropped. Then, when anything is to be enforced (view-only,
    clipboard rules, idle tracking), every message is parsed: a viewer's pass only if
    VIEWER_FORWARDED; the owner's ClientCutText is dropped without `allow_clipboard_up`;
    SetEncodings keeps only SIZED_ENCODINGS without `allow_clipboard_down`; input calls
    `on_input`. Messages pass and drop as their bytes arrive, never buffered whole. A message type
    we cannot size, or a clipboard larger than MAX_CLIENT_CUT_TEXT, ends the connection (RfbError)
    rather than pass unchecked.
    """

    def __init__(
        self,
        *,
        view_only: bool,
        allow_clipboard_up: bool = True,
        allow_clipboard_down: bool = True,
        on_input=None,
        state: RfbStreamState | None = None,
        client_init_sent: bool = False,
    ):
        self.view_only = view_only
        self.client_init = b"" if client_init_sent else b"\x01"
        self.allow_clipboard_up = allow_clipboard_up and not view_only
        self.restrict_encodings = not allow_clipboard_down
        self.on_input = on_input
        self.state = state or RfbStreamState()
        self.parsing = view_only or not allow_clipboard_up or not allow_clipboard_down or on_input is not None
        self._client_init_seen = False
        self._buffer = bytearray()
        self._skipping = 0  # bytes of a dropped message still to come
        self._passing = 0  # bytes of a forwarded message still to come

    def feed(self, data: bytes) -> bytes:
        if not self._client_init_seen:
            if not data:
                return b""
            self._client_init_seen = True
            return self.client_init + self.feed(data[1:])
        if not self.parsing:
            return data
        self._buffer += data
        forwarded = bytearray()
        while self._buffer:
            if self._skipping or self._passing:
                count = min(self._skipping or self._passing, len(self._buffer))
                if self._passing:
                    forwarded += self._buffer[:count]
                    self._passing -= count
                else:
                    self._skipping -= count
                del self._buffer[:count]
                continue
            length = _client_message_length(self._buffer, view_only=self.view_only)
            if length is None:
                break
            kind = self._buffer[0]
            if kind in INPUT_MESSAGES and self.on_input is not None:
                self.on_input()
            if not self._forwards(kind):
                self._skipping = length
            elif kind in (SET_ENCODINGS, SET_PIXEL_FORMAT):  # small: read whole, then pass (rewritten)
                if len(self._buffer) < length:
                    break
                forwarded += self._rewritten(bytes(self._buffer[:length]))
                del self._buffer[:length]
            else:
                self._passing = length
        return bytes(forwarded)

    def _forwards(self, kind: int) -> bool:
        if self.view_only:
            return kind in VIEWER_FORWARDED
        return kind != CLIENT_CUT_TEXT or self.allow_clipboard_up

    def _rewritten(self, message: bytes) -> bytes:
        if message[0] == SET_PIXEL_FORMAT:
            self.state.bytes_per_pixel = max(1, message[4] // 8)
            return message
        if not self.restrict_encodings:
            return message
        count = struct.unpack(">H", message[2:4])[0]
        encodings = [e for e in struct.unpack(f">{count}i", message[4:]) if e in SIZED_ENCODINGS]
        return message[:2] + struct.pack(f">H{len(encodings)}i", len(encodings), *encodings)


def _client_message_length(buffer: bytearray, *, view_only: bool) -> int | None:
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
    if kind == SET_DESKTOP_SIZE:
        return None if len(buffer) < 8 else 8 + 16 * buffer[6]
    if kind == QEMU:
        if len(buffer) < 2:
            return None
        if buffer[1] == 0:  # extended key event
            return 12
    client = "a view-only client" if view_only else "the client"
    raise RfbError(f"{client} sent RFB message type {kind}, which the proxy does not pass")


def _cut_text_length(buffer: bytearray) -> int:
    length = abs(struct.unpack(">i", buffer[4:8])[0])
    if length > MAX_CLIENT_CUT_TEXT:
        raise RfbError(f"a client announced {length:,} bytes of clipboard; at most {MAX_CLIENT_CUT_TEXT:,} pass")
    return length


# Server-to-client message types and the RFB messages the server filter sizes.
FRAMEBUFFER_UPDATE, SET_COLOUR_MAP_ENTRIES, BELL, SERVER_CUT_TEXT = 0, 1, 2, 3
END_OF_CONTINUOUS_UPDATES, SERVER_FENCE, SERVER_XVP = 150, 248, 250


class ServerMessageFilter:
    """The workspace's side of an RFB stream with the clipboard withheld: every message is sized
    and passed, except ServerCutText, which is dropped. Rectangles are sized by encoding, which is
    why the client may only ask for SIZED_ENCODINGS then; anything else ends the connection.

    `relay` reads from the workspace and sends to the browser in the batches it received.
    """

    def __init__(self, state: RfbStreamState):
        self.state = state
        self._out = bytearray()

    async def relay(self, receive, send) -> None:
        async def flush() -> None:
            if self._out:
                data, self._out = bytes(self._out), bytearray()
                await send(data)

        reader = ByteReader(receive, on_starve=flush)
        await self._server_init(reader)
        while True:
            await self._message(reader)

    async def _pass(self, reader: ByteReader, count: int) -> bytes:
        data = await reader.read(count)
        self._out += data
        return data

    async def _stream(self, reader: ByteReader, count: int, *, keep: bool = True) -> None:
        while count:
            data = await reader.read_some(min(count, 1024**2))
            count -= len(data)
            if keep:
                self._out += data

    async def _server_init(self, reader: ByteReader) -> None:
        header = await self._pass(reader, 24)
        self.state.bytes_per_pixel = max(1, header[4] // 8)
        await self._stream(reader, struct.unpack(">I", header[20:24])[0])

    async def _message(self, reader: ByteReader) -> None:
        kind = (await reader.read(1))[0]
        if kind == SERVER_CUT_TEXT:
            header = await reader.read(7)
            await self._stream(reader, abs(struct.unpack(">i", header[3:7])[0]), keep=False)
            return
        self._out.append(kind)
        if kind == FRAMEBUFFER_UPDATE:
            await self._framebuffer_update(reader)
        elif kind == SET_COLOUR_MAP_ENTRIES:
            header = await self._pass(reader, 5)
            await self._stream(reader, 6 * struct.unpack(">H", header[3:5])[0])
        elif kind == SERVER_FENCE:
            header = await self._pass(reader, 8)
            await self._stream(reader, header[7])
        elif kind == SERVER_XVP:
            await self._pass(reader, 3)
        elif kind not in (BELL, END_OF_CONTINUOUS_UPDATES):
            raise RfbError(f"the workspace sent RFB message type {kind}, which the proxy cannot size")

    async def _framebuffer_update(self, reader: ByteReader) -> None:
        (count,) = struct.unpack(">xH", await self._pass(reader, 3))
        for _ in range(count):
            _x, _y, width, height, encoding = struct.unpack(">HHHHi", await self._pass(reader, 12))
            if encoding == LAST_RECT:
                return
            await self._stream(reader, await self._rectangle_length(reader, width, height, encoding))

    async def _rectangle_length(self, reader: ByteReader, width: int, height: int, encoding: int) -> int:
        """Bytes of a rectangle's data still to come (what is read here to learn it is passed already)."""
        pixel = self.state.bytes_per_pixel
        if encoding == RAW:
            return width * height * pixel
        if encoding == COPY_RECT:
            return 4
        if encoding in (ZRLE, DESKTOP_NAME):
            return struct.unpack(">I", await self._pass(reader, 4))[0]
        if encoding == CURSOR:
            return width * height * pixel + (width + 7) // 8 * height
        if encoding == EXTENDED_DESKTOP_SIZE:
            return 3 + 16 * (await self._pass(reader, 1))[0]
        if encoding in SIZED_ENCODINGS:  # pseudo-encodings without data (desktop size, acknowledgements)
            return 0
        raise RfbError(f"the workspace sent a rectangle in encoding {encoding}, which the proxy cannot size")
