"""View-only is decided message by message on the browser's RFB stream."""

import struct

import pytest

from apps.sessions.rfb import MAX_CLIENT_CUT_TEXT, ClientMessageFilter, RfbError

SET_PIXEL_FORMAT = b"\x00" + bytes(19)
SET_ENCODINGS = b"\x02\x00" + struct.pack(">H", 2) + struct.pack(">ii", 7, -223)
UPDATE_REQUEST = b"\x03\x01" + struct.pack(">HHHH", 0, 0, 1280, 800)
KEY_EVENT = b"\x04\x01\x00\x00" + struct.pack(">I", 0x61)
POINTER_EVENT = b"\x05\x01" + struct.pack(">HH", 10, 20)
CUT_TEXT = b"\x06\x00\x00\x00" + struct.pack(">I", 5) + b"hello"
EXTENDED_CUT_TEXT = b"\x06\x00\x00\x00" + struct.pack(">i", -4) + b"\x10\x00\x00\x01"
CONTINUOUS_UPDATES = b"\x96\x01" + struct.pack(">HHHH", 0, 0, 10, 10)
FENCE = b"\xf8\x00\x00\x00" + struct.pack(">I", 1) + b"\x02ab"
QEMU_KEY = b"\xff\x00" + struct.pack(">HII", 1, 0x61, 30)
XVP_REBOOT = b"\xfa\x00\x01\x03"
VIEW_MESSAGES = SET_PIXEL_FORMAT + SET_ENCODINGS + UPDATE_REQUEST + CONTINUOUS_UPDATES + FENCE
INPUT_MESSAGES = KEY_EVENT + POINTER_EVENT + CUT_TEXT + EXTENDED_CUT_TEXT + QEMU_KEY + XVP_REBOOT


def test_a_viewer_keeps_what_shapes_its_view_and_loses_every_input():
    viewer = ClientMessageFilter(view_only=True)
    stream = b"\x00" + KEY_EVENT + SET_PIXEL_FORMAT + POINTER_EVENT + SET_ENCODINGS + CUT_TEXT + UPDATE_REQUEST
    stream += QEMU_KEY + CONTINUOUS_UPDATES + EXTENDED_CUT_TEXT + FENCE + XVP_REBOOT
    assert viewer.feed(stream) == b"\x01" + VIEW_MESSAGES


@pytest.mark.parametrize("chunk", [1, 3, 7])
def test_messages_split_anywhere_are_reassembled(chunk):
    viewer = ClientMessageFilter(view_only=True)
    stream = b"\x01" + INPUT_MESSAGES + VIEW_MESSAGES + INPUT_MESSAGES
    forwarded = b"".join(viewer.feed(stream[i : i + chunk]) for i in range(0, len(stream), chunk))
    assert forwarded == b"\x01" + VIEW_MESSAGES


def test_the_owner_keeps_full_control_and_every_client_connects_shared():
    owner = ClientMessageFilter(view_only=False)
    assert owner.feed(b"\x00" + KEY_EVENT) == b"\x01" + KEY_EVENT
    assert owner.feed(POINTER_EVENT + CUT_TEXT) == POINTER_EVENT + CUT_TEXT


def test_the_browsers_client_init_is_dropped_when_the_proxy_sent_the_workspace_its_own():
    owner = ClientMessageFilter(view_only=False, client_init_sent=True)
    assert owner.feed(b"\x00" + KEY_EVENT) == KEY_EVENT
    assert owner.feed(POINTER_EVENT) == POINTER_EVENT


@pytest.mark.parametrize("message", [b"\x07abcdef", b"\xff\x01" + bytes(10), b"\x01" + bytes(8)])
def test_a_viewer_message_that_cannot_be_sized_ends_the_connection(message):
    viewer = ClientMessageFilter(view_only=True)
    viewer.feed(b"\x01")
    with pytest.raises(RfbError, match="does not pass"):
        viewer.feed(message)


def test_a_large_dropped_clipboard_is_skipped_as_it_streams_not_held():
    viewer = ClientMessageFilter(view_only=True)
    assert viewer.feed(b"\x01") == b"\x01"
    size = 8 * 1024**2
    assert viewer.feed(b"\x06\x00\x00\x00" + struct.pack(">I", size)) == b""
    chunk = b"x" * 65536
    for _ in range(size // len(chunk)):
        assert viewer.feed(chunk) == b""
        assert len(viewer._buffer) == 0  # nothing of the clipboard is kept
    assert viewer.feed(UPDATE_REQUEST) == UPDATE_REQUEST


@pytest.mark.parametrize("announced", [2**31 - 1, -(2**31), MAX_CLIENT_CUT_TEXT + 1])
def test_a_clipboard_announced_beyond_the_cap_ends_the_connection(announced):
    viewer = ClientMessageFilter(view_only=True)
    viewer.feed(b"\x01")
    with pytest.raises(RfbError, match="bytes of clipboard"):
        viewer.feed(b"\x06\x00\x00\x00" + struct.pack(">i", announced))
