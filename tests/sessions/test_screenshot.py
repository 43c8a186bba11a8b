"""get_kasm_screenshot against a stub RFB server on loopback that draws a known picture: the JPEG
has the asked width and the picture's colours; bad widths and stopped sessions are refused."""

import asyncio
import io
import struct

import pytest
from PIL import Image as PillowImage

from apps.accounts.services import api_key_create
from apps.sessions.api.public.formats import user_public_id
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session
from tests.servers import free_port
from tests.sessions.rfb_server import accept_as_workspace, serve_in_background
from tests.sessions.stub_sessions import stub_session

pytestmark = pytest.mark.django_db
WIDTH, HEIGHT = 64, 48


def start_desktop(port: int, asked: list) -> None:
    """An RFB server (security None) whose desktop is red on the left half and blue on the right,
    sent in two Raw rectangles; it notes the pixel format and encodings it is asked for."""

    def half(red: int, blue: int) -> bytes:
        return bytes([blue, 0, red, 0]) * (WIDTH // 2)  # BGRX, as the pixel format the client sets

    async def desktop(websocket) -> None:
        await accept_as_workspace(websocket)
        await websocket.send(struct.pack(">HH16sI", WIDTH, HEIGHT, b"\x00" * 16, 4) + b"test")
        for _ in range(3):  # SetPixelFormat, SetEncodings, FramebufferUpdateRequest
            asked.append(await websocket.recv())
        await websocket.send(b"\x02")  # a bell first: skipped
        update = struct.pack(">BxH", 0, 2)
        update += struct.pack(">HHHHi", 0, 0, WIDTH // 2, HEIGHT, 0) + half(255, 0)[: WIDTH // 2 * 4] * HEIGHT
        update += struct.pack(">HHHHi", WIDTH // 2, 0, WIDTH // 2, HEIGHT, 0) + half(0, 255)[: WIDTH // 2 * 4] * HEIGHT
        for start in range(0, len(update), 1000):  # split anywhere, as WebSocket messages may be
            await websocket.send(update[start : start + 1000])
        await asyncio.Future()

    serve_in_background(desktop, port, max_size=None, compression=None)


@pytest.fixture
def api(client):
    issued = api_key_create(name="screens", permissions=["sessions_view"])
    key = {"api_key": issued.api_key.key, "api_key_secret": issued.secret}
    return lambda body: client.post("/api/public/get_kasm_screenshot", {**key, **body}, "application/json")


def test_the_screenshot_is_a_jpeg_of_the_desktop_at_the_asked_width(api, alice):
    port, asked = free_port(), []
    start_desktop(port, asked)
    session, _token = stub_session(alice, port=port)
    response = api({"user_id": user_public_id(alice), "kasm_id": session.hex_id, "width": 32})
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    image = PillowImage.open(io.BytesIO(response.content))
    assert (image.format, image.size) == ("JPEG", (32, 24))
    left, right = image.convert("RGB").getpixel((4, 12)), image.convert("RGB").getpixel((28, 12))
    assert left[0] > 200 and left[2] < 60 and right[2] > 200 and right[0] < 60
    assert asked[1] == struct.pack(">BxHi", 2, 1, 0)  # Raw only
    assert asked[2] == struct.pack(">BBHHHH", 3, 0, 0, 0, WIDTH, HEIGHT)  # the whole screen, not incremental


def test_bad_widths_and_sessions_not_running_are_refused(api, alice, carol):
    session, _token = stub_session(alice, port=free_port())
    fields = {"user_id": user_public_id(alice), "kasm_id": session.hex_id}
    for width, message in ((0, "from 1 to"), (5000, "from 1 to"), ("wide", "whole number")):
        refused = api({**fields, "width": width})
        assert refused.status_code == 400 and message in refused.json()["error_message"]
    unreachable = api(fields)  # nothing listens on its port
    assert unreachable.status_code == 502 and "could not be read" in unreachable.json()["error_message"]
    Session.objects.filter(pk=session.pk).update(status=SessionStatus.PAUSED)
    assert api(fields).status_code == 409
    assert api({**fields, "user_id": user_public_id(carol)}).status_code == 404


def test_frame_stats_time_one_full_frame_of_the_desktop(client, alice, carol):
    issued = api_key_create(name="stats", permissions=["sessions_view"])
    key = {"api_key": issued.api_key.key, "api_key_secret": issued.secret}
    port, asked = free_port(), []
    start_desktop(port, asked)
    session, _token = stub_session(alice, port=port)
    body = {**key, "user_id": user_public_id(alice), "kasm_id": session.hex_id}
    stats = client.post("/api/public/get_kasm_frame_stats", body, "application/json").json()
    frame = stats["frame"]
    assert (frame["resx"], frame["resy"], frame["changed"]) == (WIDTH, HEIGHT, 100)
    assert [p["process"] for p in stats["server_side"]] == ["connect_and_authenticate", "full_frame_update"]
    assert frame["server_time"] == stats["server_side"][1]["time"] >= 0 and stats["client_side"] == []
    foreign = client.post(
        "/api/public/get_kasm_frame_stats", {**body, "user_id": user_public_id(carol)}, "application/json"
    )
    assert foreign.status_code == 404
    Session.objects.filter(pk=session.pk).update(status=SessionStatus.STOPPED)
    assert client.post("/api/public/get_kasm_frame_stats", body, "application/json").status_code == 409


def test_bottleneck_stats_are_the_agents_recent_load(client, alice):
    from datetime import timedelta

    from django.utils import timezone

    from apps.agents.models import AgentStat
    from apps.common.units import GIB

    issued = api_key_create(name="stats", permissions=["sessions_view"])
    session, _token = stub_session(alice, port=free_port())
    now = timezone.now()
    for minutes_ago, cpu, used in ((1, 20.0, 2), (3, 60.0, 4), (30, 99.0, 8)):  # the last is too old
        AgentStat.objects.create(
            agent=session.agent,
            recorded_at=now - timedelta(minutes=minutes_ago),
            cpu_percent=cpu,
            memory_used=used * GIB,
            memory_total=8 * GIB,
            disk_used=0,
            disk_total=1,
        )
    body = {"api_key": issued.api_key.key, "api_key_secret": issued.secret}
    body |= {"user_id": user_public_id(alice), "kasm_id": session.hex_id}
    stats = client.post("/api/public/get_kasm_bottleneck_stats", body, "application/json").json()["bottleneck_stats"]
    assert (stats["agent"], stats["samples"], stats["window_seconds"]) == ("stub-host", 2, 300)
    assert stats["cpu_percent"] == {"average": 40.0, "max": 60.0}
    assert stats["memory_percent"] == {"average": 37.5, "max": 50.0}
