from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from apps.chat.models import ChatMessage
from apps.common.errors import ApplicationError
from apps.sessions.models import Session
from apps.sessions.sharing import share_is_participant


def chat_message_post(*, session: Session, sender, body: object) -> ChatMessage:
    """Store a message of a participant of the share; too long, empty or too fast is refused."""
    if not share_is_participant(session, sender):
        raise ApplicationError("Only the owner and the viewers of this shared session can post in its chat.")
    if not isinstance(body, str) or not body.strip():
        raise ApplicationError("A message needs some text.")
    body = body.strip()
    if len(body) > settings.CHAT_MESSAGE_MAX_LENGTH:
        raise ApplicationError(
            f"Messages are limited to {settings.CHAT_MESSAGE_MAX_LENGTH} characters; this one has {len(body)}."
        )
    window = timezone.now() - timedelta(seconds=settings.CHAT_RATE_LIMIT_SECONDS)
    recent = ChatMessage.objects.filter(session=session, sender=sender, created_at__gte=window).count()
    if recent >= settings.CHAT_RATE_LIMIT_MESSAGES:
        raise ApplicationError(
            f"You are sending messages too fast (at most {settings.CHAT_RATE_LIMIT_MESSAGES} every "
            f"{settings.CHAT_RATE_LIMIT_SECONDS} s); wait a moment."
        )
    return ChatMessage.objects.create(session=session, share_id=session.share_id, sender=sender, body=body)
