from django.conf import settings
from django.db import models

from apps.common.models import BaseModel
from apps.sessions.models import Session


class ChatMessage(BaseModel):
    """A message posted in the chat of a shared session."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="chat_messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_messages")
    # The share link it was posted under: a new link starts a new conversation for new viewers.
    share_id = models.CharField(max_length=32, blank=True)
    body = models.TextField(max_length=2000)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["session", "share_id", "created_at"])]

    def __str__(self) -> str:
        return f"{self.sender}: {self.body[:40]}"
