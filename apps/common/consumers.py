from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.common.close_codes import CLOSE_UNAUTHENTICATED
from apps.common.realtime import CONSOLE_GROUP, user_group


class LiveUpdatesConsumer(AsyncJsonWebsocketConsumer):
    """Relays pushes from `push_after_commit` to a logged-in browser: its user's group, plus the
    console group for console admins."""

    async def connect(self) -> None:
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.groups_joined = [user_group(user.pk)]
        if await self._is_console_admin(user):
            self.groups_joined.append(CONSOLE_GROUP)
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def live_update(self, event) -> None:
        await self.send_json({"topic": event["topic"], "payload": event["payload"]})

    @staticmethod
    async def _is_console_admin(user) -> bool:
        return await database_sync_to_async(user.has_perm)("accounts.access_console")
