"""A JPEG of a session's desktop (Kasm's get_kasm_screenshot): one full framebuffer update taken
over RFB with the session's own secret, the way the desktop proxy connects, then scaled and encoded
with Pillow. Only Raw pixels are asked for, so nothing but the framebuffer needs decoding. The same
update, timed, gives the session's frame stats (get_kasm_frame_stats)."""

from __future__ import annotations

import asyncio
import io
import struct
import time
from dataclasses import dataclass

from PIL import Image as PillowImage

from apps.sessions.models import Session
from apps.sessions.rfb import RAW, ByteReader, RfbError
from apps.sessions.upstream import upstream_open

SCREENSHOT_SECONDS = 10
MAX_WIDTH = 4096
MAX_PIXELS = 8192 * 8192  # a framebuffer larger than this is refused, not buffered
# 32 bits per pixel, depth 24, little endian, true colour, 8 bits each, red at 16, green at 8, blue at 0.
PIXEL_FORMAT = struct.pack(">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
FRAMEBUFFER_UPDATE, SET_COLOUR_MAP_ENTRIES, BELL, SERVER_CUT_TEXT = 0, 1, 2, 3


@dataclass(frozen=True)
class Frame:
    pixels: bytes  # BGRX, row by row
    size: tuple[int, int]
    connect_ms: float  # connection, RFB handshake and authentication with the session's secret
    update_ms: float  # from asking for the full framebuffer to its last byte


def session_screenshot(session: Session, *, width: int | None = None, quality: int = 80) -> bytes:
    """The session's desktop as JPEG bytes, `width` pixels wide (its own width when None)."""
    frame = session_frame(session)
    image = PillowImage.frombuffer("RGB", frame.size, frame.pixels, "raw", "BGRX", 0, 1)
    size = frame.size
    if width and width != size[0]:
        image = image.resize((width, max(1, round(size[1] * width / size[0]))), PillowImage.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def session_frame(session: Session) -> Frame:
    """One full framebuffer of the session's desktop, timed."""
    return asyncio.run(asyncio.wait_for(_framebuffer(session), SCREENSHOT_SECONDS))


async def _framebuffer(session: Session) -> Frame:
    started = time.perf_counter()
    upstream, reader = await upstream_open(session)
    try:
        await upstream.send(b"\x01")  # ClientInit: shared, so connected viewers stay connected
        width, height = struct.unpack(">HH", await reader.read(4))
        await reader.read(16)  # the server's pixel format: ours replaces it
        (name_length,) = struct.unpack(">I", await reader.read(4))
        await reader.read(name_length)
        if not 0 < width * height <= MAX_PIXELS:
            raise RfbError(f"the desktop reports a {width}x{height} framebuffer")
        await upstream.send(b"\x00\x00\x00\x00" + PIXEL_FORMAT)  # SetPixelFormat
        await upstream.send(struct.pack(">BxHi", 2, 1, RAW))  # SetEncodings: Raw only
        connected = time.perf_counter()
        await upstream.send(struct.pack(">BBHHHH", 3, 0, 0, 0, width, height))  # full, not incremental
        canvas = bytearray(width * height * 4)
        await _read_update(reader, canvas, width, height)
        updated = time.perf_counter()
        return Frame(bytes(canvas), (width, height), (connected - started) * 1000, (updated - connected) * 1000)
    finally:
        await upstream.close()


async def _read_update(reader: ByteReader, canvas: bytearray, width: int, height: int) -> None:
    """Read server messages until a FramebufferUpdate, painting its Raw rectangles on `canvas`."""
    while True:
        (kind,) = await reader.read(1)
        if kind == FRAMEBUFFER_UPDATE:
            break
        if kind == BELL:
            continue
        if kind == SERVER_CUT_TEXT:
            (length,) = struct.unpack(">3xI", await reader.read(7))
            await reader.read(length)
        elif kind == SET_COLOUR_MAP_ENTRIES:
            (count,) = struct.unpack(">xHH", await reader.read(5))[1:]
            await reader.read(6 * count)
        else:
            raise RfbError(f"the desktop sent message type {kind} before its framebuffer")
    (rectangles,) = struct.unpack(">xH", await reader.read(3))
    for _ in range(rectangles):
        x, y, w, h, encoding = struct.unpack(">HHHHi", await reader.read(12))
        if encoding != RAW:
            raise RfbError(f"the desktop sent encoding {encoding}; only Raw was asked for")
        if x + w > width or y + h > height:
            raise RfbError(f"the desktop sent a rectangle outside its {width}x{height} framebuffer")
        for row in range(h):
            start = ((y + row) * width + x) * 4
            canvas[start : start + w * 4] = await reader.read(w * 4)
