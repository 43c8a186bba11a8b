from datetime import timedelta

from django.utils import timezone

from apps.chat.models import ChatMessage
from apps.common.errors import ApplicationError
from apps.common.runtime_settings import runtime_settings
from apps.sessions.models import Session
from apps.sessions.sharing import share_is_participant


def chat_message_post(*, session: Session, sender, body: object) -> ChatMessage:
    """Store a message of a participant of the share; too long, empty or too fast is refused."""
    if not share_is_participant(session, sender):
        raise ApplicationError("Only the owner and the viewers of this shared session can post in its chat.")
    if not isinstance(body, str) or not body.strip():
        raise ApplicationError("A message needs some text.")
    body = body.strip()
    max_length, rate_messages, rate_seconds = runtime_settings(
        "CHAT_MESSAGE_MAX_LENGTH", "CHAT_RATE_LIMIT_MESSAGES", "CHAT_RATE_LIMIT_SECONDS"
    )
    if len(body) > max_length:
        raise ApplicationError(f"Messages are limited to {max_length} characters; this one has {len(body)}.")
    window = timezone.now() - timedelta(seconds=rate_seconds)
    recent = ChatMessage.objects.filter(session=session, sender=sender, created_at__gte=window).count()
    if recent >= rate_messages:
        raise ApplicationError(
            f"You are sending messages too fast (at most {rate_messages} every {rate_seconds} s); wait a moment."
        )
    return ChatMessage.objects.create(session=session, share_id=session.share_id, sender=sender, body=body)
