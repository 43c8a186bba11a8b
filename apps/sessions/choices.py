from typing import ClassVar

from django.db import models


class SessionStatus(models.TextChoices):
    """Where a session is in its life. A session is created PROVISIONING (placed, its launch queued)."""

    PROVISIONING = "provisioning", "Provisioning"
    STARTING = "starting", "Starting"
    RUNNING = "running", "Running"
    PAUSING = "pausing", "Pausing"
    PAUSED = "paused", "Paused"  # frozen (docker pause): its memory kept, resumed in an instant
    STOPPING = "stopping", "Stopping"
    STOPPED = "stopped", "Stopped"  # docker stop: its memory freed, its files kept; resuming restarts it
    DELETING = "deleting", "Deleting"
    DELETED = "deleted", "Deleted"
    ERROR = "error", "Error"

    # Named sets of states, the only place they are written (assigned below the class: an enum's
    # body cannot refer to its own members).
    STARTING_UP: ClassVar[frozenset]  # on its way to running: a desktop socket opened now is held
    RESUMABLE: ClassVar[frozenset]  # paused or stopped: a resume starts it again
    LIVE: ClassVar[frozenset]  # the user's session exists: it counts, expires, can be destroyed
    HOLDING: ClassVar[frozenset]  # holds its reservation on the agent (a deleting container still runs)
    VIEWABLE: ClassVar[frozenset]  # a share link can be joined
    GONE: ClassVar[frozenset]  # being removed or removed


SessionStatus.STARTING_UP = frozenset({SessionStatus.PROVISIONING, SessionStatus.STARTING})
SessionStatus.RESUMABLE = frozenset({SessionStatus.PAUSED, SessionStatus.STOPPED})
SessionStatus.LIVE = (
    SessionStatus.STARTING_UP
    | SessionStatus.RESUMABLE
    | {SessionStatus.RUNNING, SessionStatus.PAUSING, SessionStatus.STOPPING}
)
SessionStatus.HOLDING = SessionStatus.LIVE | {SessionStatus.DELETING}
SessionStatus.VIEWABLE = frozenset({SessionStatus.STARTING, SessionStatus.RUNNING})
SessionStatus.GONE = frozenset({SessionStatus.DELETING, SessionStatus.DELETED})
