"""Self-opening session links, as Kasm's `kasm_url`: `/#/connect/kasm/<kasm_id>/<user_id>/<token>`.

Each link carries a one-time token that expires after SESSION_LINK_LIFETIME_SECONDS, or when a
newer link to the session is made (each get_kasm_status makes one). Opening it
in a browser consumes the token and grants that browser (its Django session, no user logged in)
the owner's access to that one session: its page, its status, keepalive, pause, resume and delete,
and its desktop through the proxy. Nothing else: every other page still asks for a login.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.common.errors import ApplicationError
from apps.common.hashing import generate_secret, hash_secret
from apps.common.runtime_settings import runtime_setting
from apps.sessions.models import Session, SessionLink

GRANTS_KEY = "session_links"  # in the browser's Django session: {kasm_id hex: owner's user pk}


class LinkRefused(ApplicationError):
    """A link that is unknown, used already or expired; the message says which."""


@transaction.atomic
def session_link_create(*, session: Session, user_public_id: str) -> str:
    """A new link to `session`, as the path Kasm's clients expect; the session's earlier unused
    links open nothing from now on (as on Kasm, where each status call hands out the one link)."""
    token = generate_secret()
    now = timezone.now()
    lifetime = timedelta(seconds=runtime_setting("SESSION_LINK_LIFETIME_SECONDS"))
    SessionLink.objects.filter(session=session, used_at__isnull=True, superseded_at__isnull=True).update(
        superseded_at=now
    )
    SessionLink.objects.create(session=session, token_hash=hash_secret(token), expires_at=now + lifetime)
    return f"/#/connect/kasm/{session.hex_id}/{user_public_id}/{token}"


def session_link_consume(*, kasm_id, token: str) -> Session:
    """The session the link opens; the token is used up. One conditional update, so a link
    opened twice at once opens once."""
    now = timezone.now()
    link = SessionLink.objects.filter(session_id=kasm_id, token_hash=hash_secret(token)).first()
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
    return link.session


def session_link_grant(browser_session, session: Session) -> None:
    """Give the browser's session the owner's access to `session` (and to it only)."""
    grants = dict(browser_session.get(GRANTS_KEY, {}))
    grants[session.hex_id] = session.owner_id
    browser_session[GRANTS_KEY] = grants


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
