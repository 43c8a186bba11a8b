"""Commands run in a session's container (`exec_command_kasm`): who they may run as, and their
start and outcome, kept on a SessionCommand row."""

from __future__ import annotations

import uuid

from django.utils import timezone

from apps.common.errors import ApplicationError, InvalidInput
from apps.common.queues import agent_queue_name, task_enqueue
from apps.sessions.models import Session, SessionCommand


class ExecRefused(ApplicationError):
    """The key may not run a command as that user (an API answers 403)."""


def exec_user_checked(user: str, *, image_user: str, global_admin: bool) -> str:
    """`user[:group]` for `docker exec`. Keys with global_admin may name anyone, root included;
    others only the workspace's own user (empty: the image's default), never uid or gid 0 by name
    or number."""
    name, _, group = user.partition(":")
    if any(part != part.strip() or not part.isprintable() for part in (name, group)) or user.count(":") > 1:
        raise InvalidInput(f"exec_config.user must be 'user' or 'user:group', not '{user[:50]}'.")
    if global_admin:
        return user
    if _is_root(name) or _is_root(group):
        raise ExecRefused("Running a command as root (uid or gid 0) needs an API key with global_admin.")
    if user and user != image_user:
        own = f"'{image_user}'" if image_user else "its default user (leave exec_config.user empty)"
        raise ExecRefused(f"Without global_admin, commands run as the workspace's own user: {own}.")
    return user


def _is_root(part: str) -> bool:
    return part.lower() == "root" or (part.isdigit() and int(part) == 0)


def session_command_start(*, session: Session, exec_config: dict) -> SessionCommand:
    """Record the command and send it to the session's agent once this commits; the caller does
    not wait: the agent reports the outcome (`session_command_finish`)."""
    command = SessionCommand.objects.create(session=session, cmd=exec_config["cmd"], user=exec_config.get("user", ""))
    queue = agent_queue_name(session.agent.hostname)
    task_enqueue("sessions.exec", session.hex_id, command.hex_id, exec_config, queue=queue)
    return command


def session_command_finish(*, session: Session, command_id: str, outcome: dict) -> None:
    """Keep what the agent reports about one of this session's commands; a repeated report changes nothing."""
    try:
        key = uuid.UUID(command_id)
    except (TypeError, ValueError):
        return
    exit_code = outcome.get("exit_code")
    SessionCommand.objects.filter(pk=key, session=session, finished_at__isnull=True).update(
        finished_at=timezone.now(),
        exit_code=exit_code if isinstance(exit_code, int) and not isinstance(exit_code, bool) else None,
        output=str(outcome.get("output", ""))[-SessionCommand.OUTPUT_KEPT :],
        error=str(outcome.get("error", ""))[:2000],
    )
