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
