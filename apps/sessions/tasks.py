"""Celery tasks of sessions. `sessions.launch` and `sessions.destroy` run on the session's agent;
the others on the manager. Each agent task reports back with the manager token."""

import logging
import uuid

from celery import shared_task
from django.conf import settings

from apps.agents.identity import agent_identity
from apps.agents.labels import SESSION_LABEL
from apps.agents.runtime.docker import DockerError, container_exec, container_find, container_remove, container_stop
from apps.agents.services import agent_authenticate
from apps.sessions.dispatch import send_to_manager
from apps.sessions.launcher import session_container_start
from apps.sessions.models import Session
from apps.sessions.services import (
    session_mark_deleted,
    session_mark_failed,
    session_mark_paused,
    session_mark_running,
    sessions_expire,
)

logger = logging.getLogger(__name__)
HOOKS_ON_START = ("assign", "go")  # after "first_launch", which runs only in a new container


@shared_task(name="sessions.launch", time_limit=900, acks_late=True, ignore_result=True)
def session_launch_task(spec: dict) -> None:
    """On the agent: start (or find) the container, run the exec hooks, report to the manager."""
    try:
        outcome = session_container_start(docker_url=settings.DOCKER_URL, spec=spec)
        for hook in ("first_launch", *HOOKS_ON_START) if outcome.created else HOOKS_ON_START:
            _run_hook(outcome.container_id, spec, hook)
    except DockerError as error:
        send_to_manager("sessions.launch_failed", agent_identity(), spec["session_id"], str(error))
        return
    send_to_manager("sessions.launched", agent_identity(), spec["session_id"], outcome.container_id, outcome.host_port)


def _run_hook(container_id: str, spec: dict, hook: str) -> None:
    config = spec["exec_config"].get(hook)
    if not config or not config.get("cmd"):
        return
    environment = {**config.get("environment", {}), "KASM_URL": spec["environment"].get("KASM_URL", "")}
    exit_code, output = container_exec(
        settings.DOCKER_URL,
        container_id,
        cmd=config["cmd"],
        workdir=config.get("workdir", ""),
        environment=environment,
        user=config.get("user", ""),
    )
    if exit_code != 0:
        raise DockerError(f"exec_config hook '{hook}' exited with {exit_code}: {output[-500:]}", retryable=False)


@shared_task(name="sessions.destroy", time_limit=120, acks_late=True, ignore_result=True)
def session_destroy_task(session_id: str) -> None:
    """On the agent: remove the session's container (if any is left), report to the manager."""
    container = container_find(settings.DOCKER_URL, label=SESSION_LABEL, value=session_id)
    if container is not None:
        container_remove(settings.DOCKER_URL, container.id)
    send_to_manager("sessions.destroyed", agent_identity(), session_id)


@shared_task(name="sessions.pause", time_limit=120, acks_late=True, ignore_result=True)
def session_pause_task(session_id: str) -> None:
    """On the agent: stop the session's container, keeping it for a resume."""
    container = container_find(settings.DOCKER_URL, label=SESSION_LABEL, value=session_id)
    if container is None:
        send_to_manager("sessions.launch_failed", agent_identity(), session_id, "The container is gone.")
        return
    container_stop(settings.DOCKER_URL, container.id)
    send_to_manager("sessions.paused", agent_identity(), session_id)


@shared_task(name="sessions.paused", time_limit=30, ignore_result=True)
def session_paused_task(identity: dict, session_id: str) -> None:
    session = _session_from_agent(identity, session_id)
    if session is not None:
        session_mark_paused(session=session)


def _session_from_agent(identity: dict, session_id: str) -> Session | None:
    """The session an agent reports on, if the report really comes from the agent it was placed on."""
    identity = identity if isinstance(identity, dict) else {}
    name = str(identity.get("agent", ""))
    agent = agent_authenticate(name=name, credential=str(identity.get("credential", "")))
    if agent is None:
        logger.warning("Refused a report on session %s as agent %r: not its credential", session_id, name)
        return None
    try:
        session = Session.objects.select_related("agent", "owner").filter(pk=uuid.UUID(session_id)).first()
    except ValueError:
        return None
    if session is not None and session.agent_id != agent.pk:
        logger.warning("Refused agent %r's report on session %s: it runs elsewhere", name, session_id)
        return None
    return session


@shared_task(name="sessions.launched", time_limit=30, ignore_result=True)
def session_launched_task(identity: dict, session_id: str, container_id: str, host_port: int) -> None:
    session = _session_from_agent(identity, session_id)
    if session is not None:
        session_mark_running(session=session, container_id=container_id, host_port=host_port)


@shared_task(name="sessions.launch_failed", time_limit=30, ignore_result=True)
def session_launch_failed_task(identity: dict, session_id: str, reason: str) -> None:
    session = _session_from_agent(identity, session_id)
    if session is not None:
        session_mark_failed(session=session, reason=reason)


@shared_task(name="sessions.destroyed", time_limit=30, ignore_result=True)
def session_destroyed_task(identity: dict, session_id: str) -> None:
    session = _session_from_agent(identity, session_id)
    if session is not None:
        session_mark_deleted(session=session)


@shared_task(name="sessions.expire", time_limit=120, ignore_result=True)
def sessions_expire_task() -> None:
    sessions_expire()


@shared_task(name="sessions.exec", time_limit=300)
def session_exec_task(session_id: str, exec_config: dict) -> dict:
    """On the agent: run a command in the session's container; the caller waits for the result."""
    container = container_find(settings.DOCKER_URL, label=SESSION_LABEL, value=session_id)
    if container is None:
        return {"exit_code": None, "output": "", "error": "The session's container is gone."}
    try:
        exit_code, output = container_exec(
            settings.DOCKER_URL,
            container.id,
            cmd=exec_config["cmd"],
            workdir=exec_config.get("workdir", ""),
            environment=exec_config.get("environment") or None,
            user=exec_config.get("user", ""),
            privileged=bool(exec_config.get("privileged")),
        )
    except DockerError as error:
        return {"exit_code": None, "output": "", "error": str(error)}
    return {"exit_code": exit_code, "output": output}
