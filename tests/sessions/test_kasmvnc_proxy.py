"""Images that speak KasmVNC (HTTPS + basic auth on 6901) are reached by the proxy with the secret."""

import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from apps.common.close_codes import CLOSE_UPSTREAM_FAILED
from apps.common.hashing import generate_secret
from apps.images.choices import StreamProtocol
from apps.images.models import Image
from apps.sessions.models import Session
from tests.servers import free_port, running_daphne
from tests.sessions.kasmvnc_stub import start_kasmvnc_stub
from tests.sessions.rfb_client import handshake_as_browser
from tests.sessions.stub_sessions import stub_session

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def kasmvnc_session(alice):
    """A running session whose workspace is the KasmVNC stub, with the password it expects."""
    port, password = free_port(), generate_secret(18)
    start_kasmvnc_stub(port, password)
    image = Image.objects.create(
        docker_image="kasmweb/desktop:1.16", friendly_name="KasmVNC", stream_protocol=StreamProtocol.KASMVNC
    )
    session, token = stub_session(alice, port=port, image=image, vnc_password=password)
    return session, token


def test_proxy_speaks_https_basic_auth_and_vnc_auth_to_a_kasmvnc_workspace(
    kasmvnc_session, live_database_url, redis_url
):
    session, token = kasmvnc_session
    cookies = {"username": session.owner.username, "session_token": token}
    with running_daphne({"DATABASE_URL": live_database_url, "REDIS_URL": redis_url}) as base_url:
        page = requests.get(f"{base_url}/desktop/{session.hex_id}/vnc/index.html", cookies=cookies, timeout=10)
        assert page.status_code == 200 and page.text == "KasmVNC client page\n"
        # Its scripts run sandboxed: an opaque origin, without our cookies or same-origin access.
        assert page.headers["Content-Security-Policy"] == "sandbox allow-scripts allow-forms"
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        url = base_url.replace("http", "ws") + f"/desktop/{session.hex_id}/vnc/websockify"
        header = {"Cookie": f"username={session.owner.username}; session_token={token}"}
        with connect(url, origin=base_url, additional_headers=header, open_timeout=10) as websocket:
            stream = handshake_as_browser(websocket)  # the browser never sees the VNC challenge
            websocket.send(b"\x01after kasmvnc auth")
            assert stream.read(19) == b"\x01after kasmvnc auth"


def test_a_wrong_secret_never_reaches_the_kasmvnc_desktop(kasmvnc_session, live_database_url, redis_url):
    session, token = kasmvnc_session
    Session.objects.filter(pk=session.pk).update(vnc_password="not-the-password")
    with running_daphne({"DATABASE_URL": live_database_url, "REDIS_URL": redis_url}) as base_url:
        page = requests.get(
            f"{base_url}/desktop/{session.hex_id}/vnc/",
            cookies={"username": session.owner.username, "session_token": token},
            timeout=10,
        )
        assert page.status_code == 401
        url = base_url.replace("http", "ws") + f"/desktop/{session.hex_id}/vnc/websockify"
        header = {"Cookie": f"username={session.owner.username}; session_token={token}"}
        # The proxy greets the browser while it authenticates to the workspace; the workspace refuses
        # its credentials, so the browser's socket closes before a byte of the desktop arrives.
        with connect(url, origin=base_url, additional_headers=header, open_timeout=10) as websocket:
            stream = handshake_as_browser(websocket)
            with pytest.raises(ConnectionClosed) as closed:
                stream.read(1)
        assert closed.value.rcvd.code == CLOSE_UPSTREAM_FAILED
        assert stream.buffer == b""
