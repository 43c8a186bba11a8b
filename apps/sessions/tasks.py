"""Manager-side Celery tasks of sessions (the `manager` queue): the agents' reports, and expiry.
Each finds its session and calls a service; what runs on agents is in agent_tasks.py."""

import logging
import uuid

from celery import shared_task
from django.db import InterfaceError, OperationalError

from apps.agents.services import agent_from_identity
from apps.sessions.exec_commands import session_command_finish
from apps.sessions.links import session_links_prune
from apps.sessions.models import Session
from apps.sessions.services import (
    session_mark_deleted,
    session_mark_failed,
    session_mark_paused,
    session_mark_running,
    session_mark_stopped,
    sessions_expire,
    sessions_stalled_fail,
)
from apps.sessions.staging import staged_session_assigned, staging_fill

logger = logging.getLogger(__name__)
# An agent's report is applied once however often it runs, so a database error is retried, not dropped.
REPORT_TASK = {
    "time_limit": 30,
    "ignore_result": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "max_retries": 10,
}


@shared_task(name="sessions.paused", **REPORT_TASK)
def session_paused_task(identity: dict, session_id: str) -> None:
    session = _session_from_agent(identity, session_id)
    if session is not None:
        session_mark_paused(session=session)


@shared_task(name="sessions.stopped", **REPORT_TASK)
def session_stopped_task(identity: dict, session_id: str) -> None:
    session = _session_from_agent(identity, session_id)
    if session is not None:
        session_mark_stopped(session=session)


@shared_task(name="sessions.exec_finished", **REPORT_TASK)
def session_exec_finished_task(identity: dict, session_id: str, command_id: str, outcome: dict) -> None:
    session = _session_from_agent(identity, session_id)
    if session is not None and isinstance(outcome, dict):
        session_command_finish(session=session, command_id=command_id, outcome=outcome)


def _session_from_agent(identity: dict, session_id: str) -> Session | None:
    """The session an agent reports on, if the report really comes from the agent it was placed on."""
    agent = agent_from_identity(identity, about=f"a report on session {session_id}")
    if agent is None:
        return None
    try:
        session = Session.objects.select_related("agent", "owner").filter(pk=uuid.UUID(session_id)).first()
    except ValueError:
        return None
    if session is not None and session.agent_id != agent.pk:
        logger.warning("Refused agent %r's report on session %s: it runs elsewhere", agent.hostname, session_id)
        return None
    return session


@shared_task(name="sessions.launched", **REPORT_TASK)
def session_launched_task(identity: dict, session_id: str, container_id: str, host_port: int) -> None:
    session = _session_from_agent(identity, session_id)
    if session is not None:
        session_mark_running(session=session, container_id=container_id, host_port=host_port)


@shared_task(name="sessions.assigned", **REPORT_TASK)
def session_assigned_task(identity: dict, session_id: str, rotated: bool) -> None:
    session = _session_from_agent(identity, session_id)
    if session is not None:
        staged_session_assigned(session=session, rotated=rotated is True)


@shared_task(name="sessions.launch_failed", **REPORT_TASK)
def session_launch_failed_task(identity: dict, session_id: str, reason: str) -> None:
    session = _session_from_agent(identity, session_id)
    if session is not None:
        session_mark_failed(session=session, reason=reason)


@shared_task(name="sessions.destroyed", **REPORT_TASK)
def session_destroyed_task(identity: dict, session_id: str) -> None:
    session = _session_from_agent(identity, session_id)
    if session is not None:
        session_mark_deleted(session=session)


@shared_task(name="sessions.expire", time_limit=120, ignore_result=True)
def sessions_expire_task() -> None:
    """Every minute: expired sessions are destroyed, stalled starts end in error, old links go."""
    sessions_expire()
    sessions_stalled_fail()
    session_links_prune()


@shared_task(name="sessions.staging_fill", time_limit=120, ignore_result=True)
def sessions_staging_fill_task() -> None:
    """Every 10 s (beat): keep each staging pool at its target."""
    started = staging_fill()
    if any(started.values()):
        logger.info("Staged sessions started: %s", started)
