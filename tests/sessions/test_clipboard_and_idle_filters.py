"""Clipboard rules and idle tracking on the RFB stream, message by message, in both directions."""

import asyncio
import struct

import pytest

from apps.sessions.rfb import (
    ClientMessageFilter,
    RfbError,
    RfbStreamState,
    ServerMessageFilter,
)

KEY_EVENT = b"\x04\x01\x00\x00" + struct.pack(">I", 0x61)
POINTER_EVENT = b"\x05\x01" + struct.pack(">HH", 10, 20)
CUT_TEXT = b"\x06\x00\x00\x00" + struct.pack(">I", 5) + b"hello"
UPDATE_REQUEST = b"\x03\x01" + struct.pack(">HHHH", 0, 0, 1280, 800)
EXTENDED_CLIPBOARD = -1063131698  # 0xC0A1E5CE
TIGHT, ZRLE, DESKTOP_SIZE = 7, 16, -223


def set_encodings(*encodings: int) -> bytes:
    return b"\x02\x00" + struct.pack(f">H{len(encodings)}i", len(encodings), *encodings)


def pixel_format(bits: int) -> bytes:
    return b"\x00\x00\x00\x00" + bytes([bits, 24, 0, 1]) + bytes(12)


def test_without_clipboard_up_the_owners_paste_is_dropped_and_the_rest_passes():
    owner = ClientMessageFilter(view_only=False, allow_clipboard_up=False)
    stream = b"\x00" + KEY_EVENT + CUT_TEXT + POINTER_EVENT + UPDATE_REQUEST
    assert owner.feed(stream) == b"\x01" + KEY_EVENT + POINTER_EVENT + UPDATE_REQUEST


@pytest.mark.parametrize("chunk", [1, 5, 64])
def test_without_clipboard_down_the_client_may_only_ask_for_encodings_the_proxy_can_size(chunk):
    owner = ClientMessageFilter(view_only=False, allow_clipboard_down=False)
    stream = b"\x01" + set_encodings(TIGHT, ZRLE, EXTENDED_CLIPBOARD, DESKTOP_SIZE) + KEY_EVENT + CUT_TEXT
    forwarded = b"".join(owner.feed(stream[i : i + chunk]) for i in range(0, len(stream), chunk))
    assert forwarded == b"\x01" + set_encodings(ZRLE, DESKTOP_SIZE) + KEY_EVENT + CUT_TEXT


def test_the_owners_pixel_format_is_what_the_server_filter_sizes_pixels_with():
    state = RfbStreamState()
    owner = ClientMessageFilter(view_only=False, allow_clipboard_down=False, state=state)
    owner.feed(b"\x01" + pixel_format(16))
    assert state.bytes_per_pixel == 2


def test_input_is_reported_for_the_idle_timer_and_screen_requests_are_not():
    seen = []
    owner = ClientMessageFilter(view_only=False, on_input=lambda: seen.append(1))
    owner.feed(b"\x01" + UPDATE_REQUEST * 3 + set_encodings(ZRLE))
    assert seen == []
    assert owner.feed(KEY_EVENT + POINTER_EVENT) == KEY_EVENT + POINTER_EVENT
    assert len(seen) == 2


def test_an_owner_message_that_cannot_be_sized_ends_a_filtered_connection():
    owner = ClientMessageFilter(view_only=False, allow_clipboard_up=False)
    owner.feed(b"\x01")
    with pytest.raises(RfbError, match="the client sent RFB message type 7"):
        owner.feed(b"\x07abcdef")


def test_an_unfiltered_owner_stream_passes_byte_for_byte():
    owner = ClientMessageFilter(view_only=False)
    assert not owner.parsing
    assert owner.feed(b"\x00\x07anything") == b"\x01\x07anything"


# The server's side


def server_init(bits: int = 32, name: bytes = b"desk") -> bytes:
    return struct.pack(">HH", 4, 2) + bytes([bits, 24, 0, 1]) + bytes(12) + struct.pack(">I", len(name)) + name


def rect(width: int, height: int, encoding: int) -> bytes:
    return struct.pack(">HHHHi", 0, 0, width, height, encoding)


def update(*rects: bytes) -> bytes:
    return b"\x00\x00" + struct.pack(">H", len(rects)) + b"".join(rects)


def server_cut_text(text: bytes) -> bytes:
    return b"\x03\x00\x00\x00" + struct.pack(">I", len(text)) + text


RAW_RECT = rect(2, 2, 0) + bytes(range(16))
ZRLE_RECT = rect(64, 64, 16) + struct.pack(">I", 6) + b"zlib!!"
COPY_RECT = rect(8, 8, 1) + struct.pack(">HH", 1, 1)
CURSOR_RECT = rect(9, 2, -239) + bytes(9 * 2 * 4) + bytes(2 * 2)
EXTENDED_SIZE_RECT = rect(1280, 800, -308) + b"\x01\x00\x00\x00" + bytes(16)
NAME_RECT = rect(0, 0, -307) + struct.pack(">I", 3) + b"abc"
BELL, END_OF_CONTINUOUS_UPDATES = b"\x02", b"\x96"
FENCE = b"\xf8\x00\x00\x00" + struct.pack(">I", 1) + b"\x02ab"
COLOUR_MAP = b"\x01\x00" + struct.pack(">HH", 0, 2) + bytes(12)


def relayed(stream: bytes, chunk: int, *, bits: int = 32) -> bytes:
    """What the browser gets from `stream` (ServerInit first) fed in chunks of `chunk` bytes."""
    chunks = [stream[i : i + chunk] for i in range(0, len(stream), chunk)]
    sent = []

    async def receive() -> bytes:
        if not chunks:
            raise ConnectionError("end of stream")
        return chunks.pop(0)

    async def send(data: bytes) -> None:
        sent.append(data)

    with pytest.raises(ConnectionError):
        asyncio.run(ServerMessageFilter(RfbStreamState()).relay(receive, send))
    return b"".join(sent)


@pytest.mark.parametrize("chunk", [1, 7, 100, 100_000])
def test_server_cut_text_is_dropped_and_everything_else_passes_unchanged(chunk):
    kept = [
        update(RAW_RECT, ZRLE_RECT, COPY_RECT),
        BELL,
        update(CURSOR_RECT, EXTENDED_SIZE_RECT, NAME_RECT, rect(0, 0, -223)),
        FENCE,
        COLOUR_MAP,
        END_OF_CONTINUOUS_UPDATES,
        b"\x00\x00\xff\xff" + RAW_RECT + rect(0, 0, -224),  # "until LastRect"
    ]
    stream = server_init() + server_cut_text(b"password from the session")
    for message in kept:
        stream += message + server_cut_text(b"secret")
    assert relayed(stream, chunk) == server_init() + b"".join(kept)


def test_the_pixel_size_comes_from_server_init():
    raw16 = rect(2, 2, 0) + bytes(8)
    stream = server_init(bits=16) + update(raw16) + server_cut_text(b"x")
    assert relayed(stream, 3) == server_init(bits=16) + update(raw16)


@pytest.mark.parametrize(
    "message, error",
    [(update(rect(4, 4, 7) + bytes(10)), "encoding 7"), (b"\x07\x00", "message type 7")],
)
def test_what_the_proxy_cannot_size_ends_the_connection(message, error):
    async def run():
        chunks = [server_init() + message]

        async def receive():
            return chunks.pop(0) if chunks else b""

        async def send(data):
            return None

        await ServerMessageFilter(RfbStreamState()).relay(receive, send)

    with pytest.raises(RfbError, match=error):
        asyncio.run(run())
