"""The share chat over Channels: participants only, history, order, presence, limits, revocation."""

import asyncio
import contextlib

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.layers import DEFAULT_CHANNEL_LAYER, InMemoryChannelLayer, channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
from channels_redis.core import RedisChannelLayer
from django.contrib.auth.models import AnonymousUser
from django.test import override_settings

from apps.chat.consumers import ShareChatConsumer
from apps.chat.models import ChatMessage
from apps.sessions.sharing import session_sharing_disable, session_sharing_enable, share_join, share_viewer_kick
from tests.personas import ALICE, CAROL, DAVE

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.usefixtures("sockets_closed")]
OPENED: list[WebsocketCommunicator] = []


@pytest_asyncio.fixture
async def sockets_closed():
    """Each test starts with its own channel layer, and ends with every socket it opened closed and
    the layer's connections shut while its event loop still runs. A consumer left waiting on the
    Redis layer (a refused socket's stays open until the client goes) could otherwise hang the
    loop's shutdown, as it once hung CI for an hour."""
    channel_layers.backends.clear()
    yield
    while OPENED:
        communicator = OPENED.pop()
        if not communicator.future.done():
            with contextlib.suppress(Exception):
                await communicator.disconnect()
    layer = channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)
    if isinstance(layer, RedisChannelLayer):
        await layer.close_pools()


async def join(user, share_id: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(ShareChatConsumer.as_asgi(), f"/ws/share/{share_id}/chat/")
    OPENED.append(communicator)
    communicator.scope["user"] = user
    communicator.scope["url_route"] = {"kwargs": {"share_id": share_id}}
    connected, code = await communicator.connect()
    communicator.refused_with = None if connected else code
    return communicator


async def next_of(communicator, kind: str, timeout: float = 5) -> dict:
    """The next message of `kind`, skipping presence updates and the like."""
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        if message["type"] == kind:
            return message


async def send(communicator, body: str) -> None:
    await communicator.send_json_to({"type": "message", "body": body})


async def test_owner_and_two_viewers_exchange_messages_in_order_over_redis(shared_session, alice, carol, dave):
    assert isinstance(get_channel_layer(), RedisChannelLayer), "this test needs the Redis channel layer (REDIS_URL)"
    owner, viewer_1, viewer_2 = [await join(user, shared_session.share_id) for user in (alice, carol, dave)]
    for communicator in (owner, viewer_1, viewer_2):
        assert (await next_of(communicator, "history"))["messages"] == []
    await send(owner, "hello viewers")
    await send(viewer_1, "hi alice")
    await send(viewer_2, "<b>hey</b>")
    await send(owner, "last one")
    for communicator in (owner, viewer_1, viewer_2):
        received = [await next_of(communicator, "message") for _ in range(4)]
        senders_bodies = [(m["sender"], m["body"]) for m in received]
        assert sorted(senders_bodies) == sorted(
            [(ALICE, "hello viewers"), (CAROL, "hi alice"), (DAVE, "<b>hey</b>"), (ALICE, "last one")]
        )
        alice_said = [body for sender, body in senders_bodies if sender == ALICE]
        assert alice_said == ["hello viewers", "last one"]  # one sender's messages keep their order
    assert await database_sync_to_async(ChatMessage.objects.count)() == 4
    for communicator in (owner, viewer_1, viewer_2):
        await communicator.disconnect()


async def test_presence_lists_who_is_here_and_who_left(shared_session, alice, carol):
    owner = await join(alice, shared_session.share_id)
    assert (await next_of(owner, "presence"))["users"] == [ALICE]
    viewer = await join(carol, shared_session.share_id)
    assert (await next_of(owner, "presence"))["users"] == sorted([ALICE, CAROL])
    await next_of(viewer, "history")
    while (await next_of(viewer, "presence"))["users"] != sorted([ALICE, CAROL]):
        pass
    await viewer.disconnect()
    assert (await next_of(owner, "presence"))["users"] == [ALICE]
    await owner.disconnect()


async def test_history_of_recent_messages_on_join(shared_session, alice, carol, settings):
    settings.CHAT_HISTORY_SIZE = 3
    for number in range(5):
        await database_sync_to_async(ChatMessage.objects.create)(
            session=shared_session, share_id=shared_session.share_id, sender=alice, body=f"m{number}"
        )
    viewer = await join(carol, shared_session.share_id)
    history = (await next_of(viewer, "history"))["messages"]
    assert [message["body"] for message in history] == ["m2", "m3", "m4"]
    assert history[0]["sender"] == ALICE and "sent_at" in history[0]
    await viewer.disconnect()


async def test_non_participants_are_refused(shared_session, mallory):
    assert (await join(mallory, shared_session.share_id)).refused_with == 4403
    assert (await join(AnonymousUser(), shared_session.share_id)).refused_with == 4403
    assert (await join(mallory, "0" * 32)).refused_with == 4403
    assert (await join(mallory, "not-a-share")).refused_with == 4403


async def test_rate_limit_length_limit_and_bad_frames_get_errors(shared_session, carol, settings):
    settings.CHAT_RATE_LIMIT_MESSAGES, settings.CHAT_MESSAGE_MAX_LENGTH = 3, 20
    viewer = await join(carol, shared_session.share_id)
    await send(viewer, "x" * 21)
    assert "limited to 20 characters" in (await next_of(viewer, "error"))["error"]
    await viewer.send_to(text_data="{not json")
    assert "Send {" in (await next_of(viewer, "error"))["error"]
    for number in range(3):
        await send(viewer, f"fast {number}")
        await next_of(viewer, "message")
    await send(viewer, "one too many")
    assert "too fast" in (await next_of(viewer, "error"))["error"]
    assert await database_sync_to_async(ChatMessage.objects.filter(sender=carol).count)() == 3
    await viewer.disconnect()


async def test_turning_sharing_off_disconnects_everyone_and_a_kick_only_the_kicked(shared_session, alice, carol, dave):
    owner, viewer_1, viewer_2 = [await join(user, shared_session.share_id) for user in (alice, carol, dave)]
    kicked = await database_sync_to_async(shared_session.viewers.get)(user=carol)
    await database_sync_to_async(share_viewer_kick)(session=shared_session, viewer=kicked)
    assert (await next_of(viewer_1, "ended"))["reason"] == "The owner removed you from this session."
    assert (await viewer_1.receive_output(timeout=5))["type"] == "websocket.close"
    assert (await join(carol, shared_session.share_id)).refused_with == 4403
    await send(viewer_2, "still here")
    assert (await next_of(owner, "message"))["body"] == "still here"

    await database_sync_to_async(session_sharing_disable)(session=shared_session)
    for communicator in (owner, viewer_2):
        assert (await next_of(communicator, "ended"))["reason"] == "The owner stopped sharing."


@override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}})
async def test_the_embedded_in_memory_layer_serves_a_single_process(shared_session, alice, carol):
    assert isinstance(get_channel_layer(), InMemoryChannelLayer)
    owner, viewer = await join(alice, shared_session.share_id), await join(carol, shared_session.share_id)
    await send(viewer, "in memory")
    assert (await next_of(owner, "message"))["body"] == "in memory"
    await asyncio.gather(owner.disconnect(), viewer.disconnect())


async def test_viewers_of_a_new_link_do_not_read_the_last_links_chat(shared_session, alice, carol):
    owner = await join(alice, shared_session.share_id)
    await next_of(owner, "history")
    await send(owner, "for the first link's viewers only")
    await next_of(owner, "message")
    await owner.disconnect()
    await database_sync_to_async(session_sharing_disable)(session=shared_session)
    await database_sync_to_async(session_sharing_enable)(session=shared_session)
    await database_sync_to_async(share_join)(share_id=shared_session.share_id, user=carol)
    viewer = await join(carol, shared_session.share_id)
    assert (await next_of(viewer, "history"))["messages"] == []
    await viewer.disconnect()


async def test_a_browser_that_opened_a_viewers_join_link_chats_as_that_viewer(shared_session, alice, carol):
    from apps.sessions.links import VIEWER_GRANTS_KEY

    await database_sync_to_async(share_join)(share_id=shared_session.share_id, user=carol)
    owner = await join(alice, shared_session.share_id)
    communicator = WebsocketCommunicator(ShareChatConsumer.as_asgi(), f"/ws/share/{shared_session.share_id}/chat/")
    OPENED.append(communicator)
    communicator.scope |= {
        "user": AnonymousUser(),
        "url_route": {"kwargs": {"share_id": shared_session.share_id}},
        "session": {VIEWER_GRANTS_KEY: {shared_session.share_id: carol.pk}},
    }
    assert (await communicator.connect())[0]
    await next_of(communicator, "history")
    await send(communicator, "joined by link")
    message = await next_of(owner, "message")
    assert (message["sender"], message["body"]) == (CAROL, "joined by link")
    stranger = await join(AnonymousUser(), shared_session.share_id)  # no link, no login
    assert stranger.refused_with is not None
