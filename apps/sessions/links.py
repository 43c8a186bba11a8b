"""Self-opening session links, as Kasm's `kasm_url`: `/#/connect/kasm/<kasm_id>/<user_id>/<token>`.

Each link carries a one-time token that expires after SESSION_LINK_LIFETIME_SECONDS, or when a
newer link of the same person to the session is made (each get_kasm_status makes one). Opening it
in a browser consumes the token and grants that browser (its Django session, no user logged in)
the owner's access to that one session: its page, its status, keepalive, pause, resume and delete,
and its desktop through the proxy. A viewer's link (join_kasm) grants that viewer's view-only
access to the share instead: its page, its desktop and its chat. Nothing else: every other page
still asks for a login.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from apps.common.errors import ApplicationError
from apps.common.hashing import generate_secret, hash_secret
from apps.common.runtime_settings import runtime_setting
from apps.sessions.models import Session, SessionLink, ShareViewer

GRANTS_KEY = "session_links"  # in the browser's Django session: {kasm_id hex: owner's user pk}
VIEWER_GRANTS_KEY = "share_links"  # {share_id hex: the viewer's user pk}


class LinkRefused(ApplicationError):
    """A link that is unknown, used already or expired; the message says which."""


@transaction.atomic
def session_link_create(*, session: Session, user_public_id: str, viewer: ShareViewer | None = None) -> str:
    """A new link to `session` (for `viewer`: to its share, view-only), as the path Kasm's clients
    expect; the earlier unused links of the same person to the session open nothing from now on
    (as on Kasm, where each status call hands out the one link)."""
    token = generate_secret()
    now = timezone.now()
    lifetime = timedelta(seconds=runtime_setting("SESSION_LINK_LIFETIME_SECONDS"))
    SessionLink.objects.filter(session=session, viewer=viewer, used_at__isnull=True, superseded_at__isnull=True).update(
        superseded_at=now
    )
    SessionLink.objects.create(session=session, viewer=viewer, token_hash=hash_secret(token), expires_at=now + lifetime)
    return f"/#/connect/kasm/{session.hex_id}/{user_public_id}/{token}"


def session_link_consume(*, kasm_id, token: str) -> SessionLink:
    """The link, its token used up. One conditional update, so a link opened twice at once opens once."""
    now = timezone.now()
    link = (
        SessionLink.objects.select_related("session", "viewer")
        .filter(session_id=kasm_id, token_hash=hash_secret(token))
        .first()
    )
    if link is None:
        raise LinkRefused("This session link is not valid: ask for a new one, or log in.")
    if link.used_at is not None:
        raise LinkRefused("This session link was used already; each link opens the session once. Log in to see it.")
    if link.superseded_at is not None:
        raise LinkRefused("A newer link to this session was issued since; open that one, or log in.")
    if link.expires_at <= now:
        raise LinkRefused("This session link has expired; ask for a new one, or log in.")
    if not SessionLink.objects.filter(pk=link.pk, used_at__isnull=True, superseded_at__isnull=True).update(used_at=now):
        raise LinkRefused("This session link was used already; each link opens the session once. Log in to see it.")
    return link


def session_link_grant(browser_session, link: SessionLink) -> None:
    """Give the browser's session what the link opens: the owner's access to its session, or its
    viewer's view of the share (and that only)."""
    if link.viewer is None:
        key, grant, value = GRANTS_KEY, link.session.hex_id, link.session.owner_id
    else:
        key, grant, value = VIEWER_GRANTS_KEY, link.session.share_id, link.viewer.user_id
    grants = dict(browser_session.get(key, {}))
    grants[grant] = value
    browser_session[key] = grants


def share_link_viewer(browser_session, share_id: str | None):
    """The viewer a join link made this browser for the share, or None. The share's checks (kicked,
    sharing turned off) still apply to them, as to a viewer who logged in."""
    if browser_session is None or not share_id:
        return None
    try:
        key = uuid.UUID(str(share_id)).hex
    except ValueError:
        return None
    user_pk = browser_session.get(VIEWER_GRANTS_KEY, {}).get(key)
    return get_user_model().objects.filter(pk=user_pk).first() if user_pk else None


def session_link_granted(browser_session, session: Session) -> bool:
    return browser_session is not None and browser_session.get(GRANTS_KEY, {}).get(session.hex_id) == session.owner_id


def session_link_held(browser_session, kasm_id) -> bool:
    """Whether the browser opened a link to that session: enough to let it on to the session's
    views, which check the grant against the session's owner (`session_link_granted`)."""
    return kasm_id.hex in browser_session.get(GRANTS_KEY, {})


def session_links_prune(*, now=None) -> int:
    """Delete links that expired over a day ago (each status call makes one); returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=1)
    deleted, _ = SessionLink.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
