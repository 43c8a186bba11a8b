"""Revocation reaches everything: a logout everywhere, a lock or a disable ends a user's session and
viewer tokens and closes their open desktop and chat sockets; a share revoked while a viewer's
socket is being checked is never missed."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from apps.accounts.services import api_key_create
from apps.chat.consumers import ShareChatConsumer
from apps.sessions import consumers
from apps.sessions.api.public.formats import user_public_id
from apps.sessions.choices import SessionStatus
from apps.sessions.consumers import SessionVncProxyConsumer
from apps.sessions.models import Session, ShareViewer
from apps.sessions.selectors import session_for_proxy
from apps.sessions.sharing import session_sharing_disable, session_sharing_enable, share_join
from tests.sessions.stub_sessions import stub_session

pytestmark = pytest.mark.django_db(transaction=True)


async def open_desktop(session: Session, *, user=None, cookies: dict | None = None) -> WebsocketCommunicator:
    """The desktop socket of a session that is still starting: accepted and held, no container needed."""
    communicator = WebsocketCommunicator(SessionVncProxyConsumer.as_asgi(), f"/desktop/{session.hex_id}/vnc/websockify")
    communicator.scope["user"] = user or AnonymousUser()
    communicator.scope["cookies"] = cookies or {}
    communicator.scope["url_route"] = {"kwargs": {"kasm_id": session.pk}}
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def open_chat(user, share_id: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(ShareChatConsumer.as_asgi(), f"/ws/share/{share_id}/chat/")
    communicator.scope["user"] = user
    communicator.scope["url_route"] = {"kwargs": {"share_id": share_id}}
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def closed(communicator: WebsocketCommunicator) -> bool:
    while True:
        output = await communicator.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            return True


def shared_starting_session(alice, carol):
    session, token = stub_session(alice, status=SessionStatus.STARTING)
    session_sharing_enable(session=session)
    joined = share_join(share_id=session.share_id, user=carol)
    return session, token, joined.token


def logout_user_through_the_api(client, user) -> None:
    issued = api_key_create(name="admin")
    body = {
        "api_key": issued.api_key.key,
        "api_key_secret": issued.secret,
        "target_user": {"user_id": user_public_id(user)},
    }
    assert client.post("/api/public/logout_user", body, content_type="application/json").status_code == 200


@pytest.mark.asyncio
@pytest.mark.parametrize("how", ["logout_user", "lock", "disable"])
async def test_revoking_a_user_ends_their_tokens_and_closes_their_sockets(client, alice, carol, how):
    session, owner_token, viewer_token = await database_sync_to_async(shared_starting_session)(alice, carol)
    owner_cookies = {"username": alice.username, "session_token": owner_token}
    viewer_cookies = {"username": carol.username, "session_token": viewer_token}
    owner_desktop = await open_desktop(session, cookies=owner_cookies)
    viewer_desktop = await open_desktop(session, cookies=viewer_cookies)
    chats = [await open_chat(alice, session.share_id), await open_chat(carol, session.share_id)]

    def revoke(user) -> None:
        if how == "logout_user":
            logout_user_through_the_api(client, user)
        elif how == "lock":
            user.profile.locked = True
            user.profile.save()
        else:
            user.is_active = False
            user.save()

    await database_sync_to_async(revoke)(alice)
    await database_sync_to_async(revoke)(carol)
    for communicator in (owner_desktop, viewer_desktop, *chats):
        assert await closed(communicator)
    access = database_sync_to_async(session_for_proxy)
    assert await access(kasm_id=session.pk, user=None, cookies=owner_cookies) is None
    assert await access(kasm_id=session.pk, user=None, cookies=viewer_cookies) is None


@pytest.mark.asyncio
async def test_a_share_revoked_during_the_viewers_access_check_still_closes_the_socket(alice, carol, monkeypatch):
    session, _, _ = await database_sync_to_async(shared_starting_session)(alice, carol)
    checked = consumers.session_for_proxy

    def revoked_meanwhile(**kwargs):
        access = checked(**kwargs)
        current = Session.objects.get(pk=session.pk)
        if current.share_id:
            session_sharing_disable(session=current)  # lands after the check, before any group join of old
        return access

    monkeypatch.setattr(consumers, "session_for_proxy", revoked_meanwhile)
    communicator = WebsocketCommunicator(SessionVncProxyConsumer.as_asgi(), f"/desktop/{session.hex_id}/vnc/websockify")
    communicator.scope |= {"user": carol, "cookies": {}, "url_route": {"kwargs": {"kasm_id": session.pk}}}
    connected, _ = await communicator.connect()
    assert not connected or await closed(communicator)
    assert not await database_sync_to_async(ShareViewer.objects.filter(user=carol).exists)()
