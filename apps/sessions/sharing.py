"""Sharing a running session: a share link, view-only viewers the owner can see and kick.

View-only is enforced by the session proxy (see rfb.ClientMessageFilter); this module decides who
is a viewer. Sockets of a share (viewers' desktops, the chat) listen on `share_group(session)` and
close on "share.ended" (sharing turned off) or "share.kicked" (for the kicked user).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from apps.accounts.selectors import user_policy
from apps.common.errors import ApplicationError
from apps.common.hashing import generate_secret, hash_secret, secret_matches
from apps.common.realtime import push_after_commit
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session, ShareViewer

TOPIC_SHARE_ENDED = "share.ended"
TOPIC_SHARE_KICKED = "share.kicked"


def share_group(session: Session) -> str:
    return share_group_of(session.hex_id)


def share_group_of(kasm_id) -> str:
    """The share group of the session `kasm_id` (a UUID or its hex), known before the session is read."""
    return f"share-{uuid.UUID(str(kasm_id)).hex}"


def share_event_ends_access(event: dict, user_id: int) -> str:
    """Why an event of the share group ends `user_id`'s sockets, or '' when it does not."""
    if event["topic"] == TOPIC_SHARE_ENDED:
        return "The owner stopped sharing."
    if event["topic"] == TOPIC_SHARE_KICKED and event["payload"]["user_id"] == user_id:
        return "The owner removed you from this session."
    return ""


@dataclass(frozen=True)
class JoinedShare:
    session: Session
    viewer: ShareViewer
    token: str  # for the proxy's `session_token` cookie (join_kasm); shown once, stored hashed


def session_sharing_enable(*, session: Session) -> Session:
    if not user_policy(session.owner).allow_sharing:
        raise ApplicationError("Your groups do not allow sharing sessions; ask an admin.")
    if session.share_id is None:
        session.share_id = uuid.uuid4().hex
        session.save(update_fields=["share_id", "updated_at"])
    return session


@transaction.atomic
def session_sharing_disable(*, session: Session) -> Session:
    """Revoke the link: viewers are disconnected and a new link is needed to join again."""
    if session.share_id is None:
        return session
    session.share_id = None
    session.save(update_fields=["share_id", "updated_at"])
    session.viewers.all().delete()
    push_after_commit(group=share_group(session), topic=TOPIC_SHARE_ENDED, payload={"kasm_id": session.hex_id})
    return session


def shared_session_get(share_id: str) -> Session | None:
    try:
        key = uuid.UUID(str(share_id)).hex
    except ValueError:
        return None
    return Session.objects.select_related("owner", "image", "agent").filter(share_id=key).first()


def share_link_check(*, share_id: str, user) -> Session:
    """The session a share link opens for `user`, or an error saying why it opens nothing."""
    session = shared_session_get(share_id)
    if session is None or session.status not in SessionStatus.VIEWABLE:
        raise ApplicationError("This share link is not valid any more: ask the owner for a new one.")
    if session.owner_id == user.pk:
        raise ApplicationError("This is your own session; open it from My sessions.")
    if not user_policy(session.owner).allow_sharing:
        raise ApplicationError(f"{session.owner.username}'s groups no longer allow sharing; the link is closed.")
    if ShareViewer.objects.filter(session=session, user=user, kicked_at__isnull=False).exists():
        raise ApplicationError(f"{session.owner.username} removed you from this shared session.")
    return session


def share_join(*, share_id: str, user) -> JoinedShare:
    """Join a shared session view-only (again, after a reload); kicked users are refused."""
    session = share_link_check(share_id=share_id, user=user)
    token = generate_secret()
    viewer, created = ShareViewer.objects.get_or_create(
        session=session, user=user, defaults={"token_hash": hash_secret(token)}
    )
    if viewer.kicked_at is not None:
        raise ApplicationError(f"{session.owner.username} removed you from this shared session.")
    if not created:
        viewer.token_hash = hash_secret(token)
        viewer.save(update_fields=["token_hash", "updated_at"])
    return JoinedShare(session=session, viewer=viewer, token=token)


@transaction.atomic
def share_viewer_kick(*, session: Session, viewer: ShareViewer) -> None:
    viewer.kicked_at = timezone.now()
    viewer.save(update_fields=["kicked_at", "updated_at"])
    push_after_commit(group=share_group(session), topic=TOPIC_SHARE_KICKED, payload={"user_id": viewer.user_id})


def share_viewer_active(session: Session, user) -> ShareViewer | None:
    if session.share_id is None or user is None or not user.is_authenticated:
        return None
    return ShareViewer.objects.filter(session=session, user=user, kicked_at__isnull=True).first()


def share_viewer_by_token(session: Session, username: str, token: str) -> ShareViewer | None:
    if session.share_id is None or not token:
        return None
    viewers = ShareViewer.objects.filter(session=session, user__username=username, kicked_at__isnull=True)
    return next((viewer for viewer in viewers if secret_matches(token, viewer.token_hash)), None)


def share_is_participant(session: Session, user) -> bool:
    """The owner and the viewers (not kicked) of a shared session may read and post in its chat."""
    if session.share_id is None or user is None or not user.is_authenticated:
        return False
    return user.pk == session.owner_id or share_viewer_active(session, user) is not None
