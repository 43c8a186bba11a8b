"""The one way to push a live update to browsers: a Channels group message sent after commit.

Pushes are best-effort: a channel layer that is down (Redis dropped or stalled) is logged, never
raised into the request or task that made the change, so the work queued beside it still goes out.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)
CONSOLE_GROUP = "console"


def user_group(user_id: int) -> str:
    return f"user-{user_id}"


def push_after_commit(*, group: str, topic: str, payload: dict) -> None:
    """Send `{topic, payload}` to every socket in `group` once the current transaction commits."""

    def send() -> None:
        try:
            async_to_sync(get_channel_layer().group_send)(
                group, {"type": "live.update", "topic": topic, "payload": payload}
            )
        except Exception as error:  # any failure of the layer: a browser misses one update
            logger.warning("Live update %s to %s not sent: %s", topic, group, error)

    transaction.on_commit(send)
