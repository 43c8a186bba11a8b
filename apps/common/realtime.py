"""The one way to push a live update to browsers: a Channels group message sent after commit."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

CONSOLE_GROUP = "console"


def user_group(user_id: int) -> str:
    return f"user-{user_id}"


def push_after_commit(*, group: str, topic: str, payload: dict) -> None:
    """Send `{topic, payload}` to every socket in `group` once the current transaction commits."""

    def send() -> None:
        async_to_sync(get_channel_layer().group_send)(
            group, {"type": "live.update", "topic": topic, "payload": payload}
        )

    transaction.on_commit(send)
