"""View-only through the real proxy and container: what a viewer sends never reaches the container.

The busybox workspace echoes every byte it receives after the RFB handshake, so reading the echo
is reading exactly what the container got.
"""

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from apps.sessions.choices import SessionStatus
from apps.sessions.services import session_request
from apps.sessions.sharing import session_sharing_disable, session_sharing_enable, share_join
from tests.sessions.rfb_client import handshake_as_browser
from tests.sessions.test_client_message_filter import CUT_TEXT, KEY_EVENT, POINTER_EVENT, UPDATE_REQUEST
from tests.sessions.test_session_lifecycle import cookie_header, wait_for_status, ws_url

pytestmark = pytest.mark.django_db(transaction=True)


def open_desktop(platform, session, username: str, token: str):
    cookies = cookie_header({"username": username, "session_token": token})
    return connect(ws_url(platform, session), origin=platform, additional_headers={"Cookie": cookies}, open_timeout=10)


def assert_nothing_more(websocket) -> None:
    with pytest.raises(TimeoutError):
        websocket.recv(timeout=1)


def test_viewer_input_is_dropped_the_owners_passes_and_revoking_disconnects_the_viewer(
    platform, alice, carol, busybox_image
):
    requested = session_request(user=alice, image=busybox_image)
    session = wait_for_status(requested.session, SessionStatus.RUNNING)
    session_sharing_enable(session=session)
    joined = share_join(share_id=session.share_id, user=carol)

    with open_desktop(platform, session, alice.username, requested.session_token) as owner:
        owner_stream = handshake_as_browser(owner)
        owner.send(b"\x01" + KEY_EVENT + POINTER_EVENT)
        assert owner_stream.read(1 + len(KEY_EVENT + POINTER_EVENT)) == b"\x01" + KEY_EVENT + POINTER_EVENT

        with open_desktop(platform, session, carol.username, joined.token) as viewer:
            viewer_stream = handshake_as_browser(viewer)
            viewer.send(b"\x00" + KEY_EVENT + POINTER_EVENT + CUT_TEXT + UPDATE_REQUEST)  # ClientInit "exclusive"
            viewer.send(KEY_EVENT)
            viewer.send(UPDATE_REQUEST)
            assert viewer_stream.read(1 + 2 * len(UPDATE_REQUEST)) == b"\x01" + UPDATE_REQUEST + UPDATE_REQUEST
            assert_nothing_more(viewer)

            session_sharing_disable(session=session)
            with pytest.raises(ConnectionClosed):
                viewer.recv(timeout=10)

        owner.send(UPDATE_REQUEST)  # the owner is not affected by the share ending
        assert owner_stream.read(len(UPDATE_REQUEST)) == UPDATE_REQUEST
