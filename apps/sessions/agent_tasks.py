"""Celery tasks of sessions that run on the session's agent (its own queue): they drive the
local Docker engine, never the database, and report back to the manager with the agent's identity."""

import logging
import time

from celery import shared_task
from django.conf import settings

from apps.agents.identity import agent_identity
from apps.agents.labels import SESSION_LABEL
from apps.agents.runtime.docker import (
    DockerError,
    container_exec,
    container_find,
    container_pause,
    container_remove,
    container_stop,
)
from apps.common.queues import task_enqueue
from apps.sessions import container_files
from apps.sessions.launcher import session_container_start, vnc_secret_install
from apps.sessions.mounts import profile_remove

logger = logging.getLogger(__name__)
HOOKS_ON_START = ("assign", "go")  # after "first_launch", which runs only in a new container


@shared_task(name="sessions.launch", time_limit=900, acks_late=True, ignore_result=True)
def session_launch_task(spec: dict) -> None:
    """start (or find) the container, run the exec hooks, report to the manager; nothing when the
    launch comes after the start's deadline."""
    if time.time() > spec.get("not_after", float("inf")):
        logger.warning("Launch of session %s came after its deadline; not started", spec["session_id"])
        return
    # A staged session runs its "assign" hook when a user claims it (sessions.assign), not now.
    on_start = ("go",) if spec.get("staged") else HOOKS_ON_START
    try:
        outcome = session_container_start(docker_url=settings.DOCKER_URL, spec=spec)
        if not outcome.created:
            # Started again, the entrypoint wrote back the password the container was created with;
            # a claimed staged session's was rotated since.
            vnc_secret_install(settings.DOCKER_URL, outcome.container_id, spec["environment"]["VNC_PW"])
        for hook in ("first_launch", *on_start) if outcome.created else on_start:
            _run_hook(outcome.container_id, spec, hook)
    except DockerError as error:
        task_enqueue("sessions.launch_failed", agent_identity(), spec["session_id"], str(error))
        return
    task_enqueue("sessions.launched", agent_identity(), spec["session_id"], outcome.container_id, outcome.host_port)


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


@shared_task(name="sessions.assign", time_limit=120, acks_late=True, ignore_result=True)
def session_assign_task(spec: dict) -> None:
    """A user claimed this staged session: its new VNC secret goes into the container (when the
    image can take one while it runs), then the image's "assign" hook runs; report to the manager."""

    def assign(docker_url: str, container_id: str) -> bool:
        rotated = vnc_secret_install(docker_url, container_id, spec["vnc_password"])
        _run_hook(container_id, spec, "assign")
        return rotated

    _container_then_report(spec["session_id"], assign, "sessions.assigned")


@shared_task(name="sessions.destroy", time_limit=120, acks_late=True, ignore_result=True)
def session_destroy_task(session_id: str) -> None:
    """remove the session's container (if any is left), report to the manager."""
    container = container_find(settings.DOCKER_URL, label=SESSION_LABEL, value=session_id)
    if container is not None:
        container_remove(settings.DOCKER_URL, container.id)
    task_enqueue("sessions.destroyed", agent_identity(), session_id)


@shared_task(name="sessions.pause", time_limit=120, acks_late=True, ignore_result=True)
def session_pause_task(session_id: str) -> None:
    """freeze the session's container (docker pause), its memory kept for a resume."""
    _container_then_report(session_id, container_pause, "sessions.paused")


@shared_task(name="sessions.stop", time_limit=120, acks_late=True, ignore_result=True)
def session_stop_task(session_id: str) -> None:
    """stop the session's container (docker stop), keeping it and its files for a resume."""
    _container_then_report(session_id, container_stop, "sessions.stopped")


def _container_then_report(session_id: str, action, report: str) -> None:
    """`action(docker_url, container_id)` on the session's container, then `report` to the manager,
    with what the action returned when that is not None; a missing container, or a DockerError,
    is reported as a failure instead."""
    container = container_find(settings.DOCKER_URL, label=SESSION_LABEL, value=session_id)
    if container is None:
        task_enqueue("sessions.launch_failed", agent_identity(), session_id, "The container is gone.")
        return
    try:
        outcome = action(settings.DOCKER_URL, container.id)
    except DockerError as error:
        task_enqueue("sessions.launch_failed", agent_identity(), session_id, str(error))
        return
    task_enqueue(report, agent_identity(), session_id, *(() if outcome is None else (outcome,)))


@shared_task(name="sessions.profile_remove", time_limit=300, acks_late=True, ignore_result=True)
def profile_remove_task(kind: str, source: str) -> None:
    """delete a reset persistent profile on this agent; a refusal (in use, outside the allowed
    roots) is logged here, where the agent's admin looks."""
    try:
        profile_remove(settings.DOCKER_URL, kind=kind, source=source)
    except DockerError as error:
        logger.error("Persistent profile %s was not removed: %s", source, error)


# File transfers (transfers.py): a browser waits on each, so none is retried or acknowledged late.
@shared_task(name="sessions.file_put", time_limit=300, ignore_result=True)
def file_put_task(session_id: str, transfer_id: str, name: str) -> None:
    """write an uploaded file into the session's ~/Uploads."""
    container_files.file_put(session_id, transfer_id, name)


@shared_task(name="sessions.files_list", time_limit=60, ignore_result=True)
def files_list_task(session_id: str, transfer_id: str, path: str) -> None:
    """list a directory of the session's home."""
    container_files.files_list(session_id, transfer_id, path)


@shared_task(name="sessions.file_get", time_limit=900, ignore_result=True)
def file_get_task(session_id: str, transfer_id: str, path: str, limit: int) -> None:
    """stream a file of the session's home to the manager."""
    container_files.file_get(session_id, transfer_id, path, limit)


@shared_task(name="sessions.exec", time_limit=3600, ignore_result=True)
def session_exec_task(session_id: str, command_id: str, exec_config: dict) -> None:
    """Run a command in the session's container and report its outcome to the manager."""
    container = container_find(settings.DOCKER_URL, label=SESSION_LABEL, value=session_id)
    if container is None:
        outcome = {"exit_code": None, "output": "", "error": "The session's container is gone."}
    else:
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
            outcome = {"exit_code": exit_code, "output": output, "error": ""}
        except DockerError as error:
            outcome = {"exit_code": None, "output": "", "error": str(error)}
    task_enqueue("sessions.exec_finished", agent_identity(), session_id, command_id, outcome)
