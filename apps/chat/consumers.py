"""The chat of a shared session: history on join, live messages and presence, over the channel layer.

With the Redis layer every daphne process of the platform serves the same chats. Presence needs
no storage: a newcomer says hello to the chat group and every socket there answers it directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncWebsocketConsumer

from apps.chat.selectors import chat_history, chat_message_as_dict, chat_session_for
from apps.chat.services import chat_message_post
from apps.common.close_codes import CLOSE_FORBIDDEN
from apps.common.errors import ApplicationError
from apps.common.json_input import json_loads_bounded
from apps.common.realtime import user_group
from apps.sessions.links import share_link_viewer
from apps.sessions.services import TOPIC_ACCESS_REVOKED
from apps.sessions.sharing import share_event_ends_access, share_group

PRESENCE_DEBOUNCE_SECONDS = 0.2


def chat_group(session) -> str:
    return f"chat-{session.hex_id}"


class ShareChatConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        share_id = self.scope["url_route"]["kwargs"]["share_id"]
        self.user = self.scope.get("user")
        if self.user is None or not self.user.is_authenticated:  # a browser that opened a viewer's join link
            self.user = await database_sync_to_async(share_link_viewer)(self.scope.get("session"), share_id)
        self.session = await database_sync_to_async(chat_session_for)(share_id=share_id, user=self.user)
        if self.session is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.groups_joined = [chat_group(self.session), share_group(self.session), user_group(self.user.pk)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        # Checked again now that this socket hears kicks, the share's end and revocations: one that
        # landed during the first check would otherwise be missed.
        if await database_sync_to_async(chat_session_for)(share_id=share_id, user=self.user) is None:
            for group in self.groups_joined:
                await self.channel_layer.group_discard(group, self.channel_name)
            self.session = None
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.accept()
        history = await database_sync_to_async(chat_history)(self.session)
        await self._send_json({"type": "history", "messages": history})
        self.present = {self.channel_name: self.user.get_username()}
        self.presence_update: asyncio.Task | None = None
        await self._send_presence()
        await self.channel_layer.group_send(
            chat_group(self.session),
            {"type": "presence.hello", "channel": self.channel_name, "username": self.user.get_username()},
        )

    async def disconnect(self, code) -> None:
        if getattr(self, "session", None) is None:
            return
        if self.presence_update is not None:
            self.presence_update.cancel()
        await self.channel_layer.group_send(
            chat_group(self.session), {"type": "presence.leave", "channel": self.channel_name}
        )
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        try:
            content = json_loads_bounded(text_data or "")
        except ValueError:
            content = None
        if not isinstance(content, dict) or content.get("type") != "message":
            await self._send_json({"type": "error", "error": 'Send {"type": "message", "body": "..."}.'})
            return
        try:
            payload = await database_sync_to_async(self._post)(content.get("body"))
        except ApplicationError as error:
            await self._send_json({"type": "error", "error": error.message})
            return
        await self.channel_layer.group_send(chat_group(self.session), {"type": "chat.message", "message": payload})

    def _post(self, body: object) -> dict:
        """One trip to the database thread per message: checks, rate limit and insert."""
        return chat_message_as_dict(chat_message_post(session=self.session, sender=self.user, body=body))

    async def chat_message(self, event: dict) -> None:
        await self._send_json({"type": "message", **event["message"]})

    async def presence_hello(self, event: dict) -> None:
        if event["channel"] == self.channel_name:
            return
        self.present[event["channel"]] = event["username"]
        here = {"type": "presence.here", "channel": self.channel_name, "username": self.user.get_username()}
        with contextlib.suppress(ChannelFull):  # a newcomer flooded by replies misses some names, no more
            await self.channel_layer.send(event["channel"], here)
        await self._send_presence()

    async def presence_here(self, event: dict) -> None:
        self.present[event["channel"]] = event["username"]
        await self._send_presence()

    async def presence_leave(self, event: dict) -> None:
        if self.present.pop(event["channel"], None) is not None:
            await self._send_presence()

    async def live_update(self, event: dict) -> None:
        """Control messages: the share ended, this user was kicked, or their access was revoked."""
        if event["topic"] == TOPIC_ACCESS_REVOKED:
            await self._send_json({"type": "ended", "reason": "You were logged out."})
            await self.close(code=CLOSE_FORBIDDEN)
        elif reason := share_event_ends_access(event, self.user.pk):
            await self._send_json({"type": "ended", "reason": reason})
            await self.close(code=CLOSE_FORBIDDEN)

    async def _send_presence(self) -> None:
        """Tell the browser who is here, at most every PRESENCE_DEBOUNCE_SECONDS: a wave of joins
        (a class opening a share link) becomes one update instead of one per join."""
        if self.presence_update is None or self.presence_update.done():
            self.presence_update = asyncio.create_task(self._send_presence_later())

    async def _send_presence_later(self) -> None:
        await asyncio.sleep(PRESENCE_DEBOUNCE_SECONDS)  # a task: chat messages keep flowing meanwhile
        await self._send_json({"type": "presence", "users": sorted(set(self.present.values()))})

    async def _send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content))
