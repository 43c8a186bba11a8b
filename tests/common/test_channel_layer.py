"""The Redis channel layer keeps an idle socket's consumer alive (redis-py 8 timed its receive out)."""

import asyncio

import pytest
from channels.layers import get_channel_layer
from django.test import override_settings

from kasm import settings as kasm_settings

pytestmark = pytest.mark.asyncio


async def test_idle_receive_outlasts_the_blocking_pop(redis_url):
    """channels_redis blocks 5 s per pop; redis-py 8's default 5 s read timeout raised in that window.

    The pop is lengthened past redis-py's default so the old configuration fails every time instead
    of only when the answer is late.
    """
    with override_settings(CHANNEL_LAYERS=kasm_settings.CHANNEL_LAYERS):
        layer = get_channel_layer()
        layer.brpop_timeout = 6
        channel = await layer.new_channel()
        with pytest.raises(asyncio.TimeoutError):  # ours, not redis.exceptions.TimeoutError
            await asyncio.wait_for(layer.receive(channel), timeout=7)
        await layer.flush()


async def test_a_message_sent_while_redis_drops_and_stalls_its_connections_still_arrives(redis_url):
    """Every client connection killed, then Redis paused: the waiting receive and the send both
    retry on new connections (without retries, both raised and the message was lost)."""
    import redis
    from channels_redis.core import RedisChannelLayer

    hosts = kasm_settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]
    receiver, sender = RedisChannelLayer(hosts=hosts), RedisChannelLayer(hosts=hosts)
    try:
        channel = await receiver.new_channel()
        await receiver.group_add("outage", channel)
        received = asyncio.ensure_future(receiver.receive(channel))
        await asyncio.sleep(0.3)  # the receive is waiting in Redis now
        admin = redis.Redis.from_url(redis_url)
        admin.client_kill_filter(_type="normal")
        admin.client_pause(1500)
        await asyncio.sleep(1.4)
        await sender.group_send("outage", {"type": "chat.message", "body": "through the outage"})
        assert (await asyncio.wait_for(received, timeout=15))["body"] == "through the outage"
    finally:
        await receiver.flush()
        await receiver.close_pools()
        await sender.close_pools()
