"""Live pushes reach the right browsers through the Channels consumer, and only after commit."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from apps.common.consumers import LiveUpdatesConsumer
from apps.common.realtime import CONSOLE_GROUP, push_after_commit, user_group

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def connect_as(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(LiveUpdatesConsumer.as_asgi(), "/ws/live/")
    communicator.scope["user"] = user
    return communicator


@database_sync_to_async
def push(group: str, topic: str) -> None:
    with transaction.atomic():
        push_after_commit(group=group, topic=topic, payload={"value": 1})


async def test_anonymous_socket_is_refused():
    communicator = await connect_as(AnonymousUser())
    connected, code = await communicator.connect()
    assert not connected and code == 4401


async def test_user_gets_own_pushes_but_not_the_consoles(alice):
    communicator = await connect_as(alice)
    assert (await communicator.connect())[0]
    await push(user_group(alice.pk), "session.status")
    assert await communicator.receive_json_from(timeout=5) == {"topic": "session.status", "payload": {"value": 1}}
    await push(CONSOLE_GROUP, "agent.checkin")
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_console_admin_gets_console_pushes(admin_user_with_console):
    communicator = await connect_as(admin_user_with_console)
    assert (await communicator.connect())[0]
    await push(CONSOLE_GROUP, "agent.checkin")
    assert (await communicator.receive_json_from(timeout=5))["topic"] == "agent.checkin"
    await communicator.disconnect()


@database_sync_to_async
def push_then_roll_back(group: str) -> None:
    try:
        with transaction.atomic():
            push_after_commit(group=group, topic="never", payload={})
            raise RuntimeError("roll back")
    except RuntimeError:
        pass


async def test_rolled_back_push_is_never_sent(alice):
    communicator = await connect_as(alice)
    assert (await communicator.connect())[0]
    await push_then_roll_back(user_group(alice.pk))
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()
