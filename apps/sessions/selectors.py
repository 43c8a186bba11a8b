"""Reads of the sessions app."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import unquote

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from apps.accounts.selectors import user_policy
from apps.agents.selectors import AGENT_REPORT_FIELDS
from apps.common.hashing import secret_matches
from apps.sessions.choices import SessionStatus
from apps.sessions.links import session_link_granted, share_link_viewer
from apps.sessions.models import PersistentProfile, Session
from apps.sessions.sharing import share_viewer_active, share_viewer_by_token


def session_get(kasm_id) -> Session | None:
    try:
        key = kasm_id if isinstance(kasm_id, uuid.UUID) else uuid.UUID(str(kasm_id))
    except ValueError:
        return None
    return Session.objects.select_related("owner", "image", "agent").filter(pk=key).first()


@dataclass(frozen=True)
class ProxyAccess:
    """Who reaches a session through the proxy: its owner (full control) or a viewer (view-only)."""

    session: Session
    user_id: int
    view_only: bool


def session_for_proxy(*, kasm_id, user, cookies: dict, browser_session=None) -> ProxyAccess | None:
    """The running (or still starting) session the request may reach: its owner's login, a browser
    that opened one of its links, or the API's cookies `username` + `session_token`; or a viewer's
    login or join_kasm token (view-only). Anyone else gets None."""
    session = session_get(kasm_id)
    if session is None or not (session.status in SessionStatus.STARTING_UP or session_is_reachable(session)):
        return None
    token, username = cookies.get("session_token", ""), cookie_text(cookies.get("username", ""))
    owner_login = user is not None and user.is_authenticated and user.pk == session.owner_id
    if owner_login or session_link_granted(browser_session, session):
        return ProxyAccess(session=session, user_id=session.owner_id, view_only=False)
    if token and username == session.owner.get_username() and secret_matches(token, session.session_token_hash):
        return ProxyAccess(session=session, user_id=session.owner_id, view_only=False)
    viewer = (
        share_viewer_active(session, user)
        or share_viewer_active(session, share_link_viewer(browser_session, session.share_id))
        or share_viewer_by_token(session, username, token)
    )
    if viewer is not None and user_policy(session.owner).allow_sharing:
        return ProxyAccess(session=session, user_id=viewer.user_id, view_only=True)
    return None


def cookie_text(value: str) -> str:
    """A cookie's text as its client meant it. Cookies are bytes that Django reads as Latin-1, and
    clients send a name like `Zoë.Müller@example.de` either percent-encoded (`document.cookie` with
    `encodeURIComponent`) or as raw UTF-8: both come back as the name."""
    text = unquote(value)
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def session_is_reachable(session: Session) -> bool:
    return session.status == SessionStatus.RUNNING and bool(session.host_port)


def sessions_of(user) -> QuerySet[Session]:
    return (
        Session.objects.filter(owner=user)
        .exclude(status=SessionStatus.DELETED)
        .select_related("image", "agent")
        .order_by("-created_at")
    )


def sessions_for_console(*, status: str = "", agent: str = "", owner: str = "") -> QuerySet[Session]:
    """All sessions for admins, newest first, filtered by status, agent hostname and owner username."""
    sessions = Session.objects.select_related("owner", "image", "agent").order_by("-created_at")
    sessions = sessions.defer(*(f"agent__{name}" for name in AGENT_REPORT_FIELDS))
    if status:
        sessions = sessions.filter(status=status)
    if agent:
        sessions = sessions.filter(agent__hostname=agent)
    if owner:
        sessions = sessions.filter(owner__username=owner)
    return sessions


CONSOLE_SESSIONS_PAGE_SIZE = 100


def sessions_page_for_console(*, number: str | int | None, **filters: str) -> Page:
    """A page of sessions_for_console (CONSOLE_SESSIONS_PAGE_SIZE); past the end, the last page."""
    return Paginator(sessions_for_console(**filters), CONSOLE_SESSIONS_PAGE_SIZE).get_page(number)


def persistent_profiles_for_console(*, search: str = "") -> QuerySet[PersistentProfile]:
    """Every kept profile, newest use first; `search` matches the owner's username or the workspace."""
    profiles = PersistentProfile.objects.select_related("owner", "image").prefetch_related("agents")
    if search:
        profiles = profiles.filter(Q(owner__username__icontains=search) | Q(image__friendly_name__icontains=search))
    return profiles


def persistent_profiles_of(user) -> QuerySet[PersistentProfile]:
    return PersistentProfile.objects.filter(owner=user).select_related("image")
