"""A minimal RFB client, as a browser's noVNC would speak it to our proxy."""

import struct

from websockets.sync.client import ClientConnection


class Stream:
    def __init__(self, websocket: ClientConnection):
        self.websocket, self.buffer = websocket, b""

    def read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self.buffer += self.websocket.recv(timeout=15)
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data


def handshake_as_browser(websocket: ClientConnection) -> Stream:
    """Version, security type None (the only one the proxy offers), SecurityResult OK."""
    stream = Stream(websocket)
    assert stream.read(12) == b"RFB 003.008\n"
    websocket.send(b"RFB 003.008\n")
    assert stream.read(2) == b"\x01\x01", "the proxy must offer exactly security type None"
    websocket.send(b"\x01")
    assert struct.unpack(">I", stream.read(4)) == (0,)
    return stream
