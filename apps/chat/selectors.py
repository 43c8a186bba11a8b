from apps.chat.models import ChatMessage
from apps.common.runtime_settings import runtime_setting
from apps.sessions.models import Session
from apps.sessions.sharing import share_is_participant, shared_session_get


def chat_message_as_dict(message: ChatMessage) -> dict:
    return {
        "id": message.hex_id,
        "sender": message.sender.get_username(),
        "body": message.body,
        "sent_at": message.created_at.isoformat(),
    }


def chat_history(session: Session) -> list[dict]:
    """The most recent CHAT_HISTORY_SIZE messages, oldest first."""
    recent = (
        ChatMessage.objects.filter(session=session, share_id=session.share_id or "")
        .select_related("sender")
        .order_by("-created_at")
    )
    return [chat_message_as_dict(message) for message in reversed(recent[: runtime_setting("CHAT_HISTORY_SIZE")])]


def chat_session_for(*, share_id: str, user) -> Session | None:
    """The shared session whose chat `user` may join: they are its owner or one of its viewers."""
    session = shared_session_get(share_id)
    if session is None or not share_is_participant(session, user):
        return None
    return session
