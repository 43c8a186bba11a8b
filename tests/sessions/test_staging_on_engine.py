"""A claimed staged desktop on the real engine: the agent installs its new VNC secret, and a stop
and resume keeps both the container and that secret."""

import asyncio

import pytest

from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session, StagingPool
from apps.sessions.rfb import VncPasswordRefused
from apps.sessions.services import session_destroy, session_request, session_resume, session_stop
from apps.sessions.staging import staging_fill
from apps.sessions.upstream import upstream_open
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_claimed_staged_desktop_gets_a_new_vnc_secret_that_a_restart_keeps(platform, alice, desktop_image):
    pool = StagingPool.objects.create(image=desktop_image, ready_target=1, max_total=1)
    staging_fill()
    StagingPool.objects.filter(pk=pool.pk).update(enabled=False)  # no refill to clean up after
    (staged,) = pool.sessions.all()
    wait_for(lambda: status_of(staged) == SessionStatus.RUNNING, timeout=120, what="the staged desktop")
    staged_secret = Session.objects.get(pk=staged.pk).vnc_password

    assert session_request(user=alice, image=desktop_image).session.pk == staged.pk
    wait_for(lambda: not Session.objects.get(pk=staged.pk).vnc_password_next, timeout=60, what="the new secret")
    session = Session.objects.select_related("agent", "image").get(pk=staged.pk)
    assert session.vnc_password not in ("", staged_secret)
    assert vnc_server_accepts(session, session.vnc_password)
    assert not vnc_server_accepts(session, staged_secret)  # the container's VNC server refuses it now

    # Started again, the entrypoint writes back the secret the container was created with; the
    # agent installs the session's own before it reports the desktop running. It is the same
    # container, though it was named for the staging user.
    session_stop(session=session)
    wait_for(lambda: status_of(session) == SessionStatus.STOPPED, timeout=60, what="stopped")
    session_resume(session=Session.objects.get(pk=session.pk))
    wait_for(lambda: status_of(session) == SessionStatus.RUNNING, timeout=120, what="running again")
    resumed = Session.objects.select_related("agent", "image").get(pk=staged.pk)
    assert resumed.container_id == session.container_id
    session = resumed
    assert vnc_server_accepts(session, session.vnc_password)
    assert not vnc_server_accepts(session, staged_secret)
    session_destroy(session=session)
    wait_for(lambda: status_of(session) == SessionStatus.DELETED, timeout=60, what="deleted")


def status_of(session: Session) -> str:
    return Session.objects.get(pk=session.pk).status


def vnc_server_accepts(session: Session, password: str) -> bool:
    """Whether the session's container lets the proxy in with `password`."""
    session.vnc_password, session.vnc_password_next = password, ""

    async def attempt() -> bool:
        try:
            upstream, _reader = await upstream_open(session)
        except VncPasswordRefused:
            return False
        await upstream.close()
        return True

    return asyncio.run(attempt())
