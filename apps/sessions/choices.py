from django.db import models


class SessionStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    PROVISIONING = "provisioning", "Provisioning"
    STARTING = "starting", "Starting"
    RUNNING = "running", "Running"
    STOPPING = "stopping", "Stopping"
    STOPPED = "stopped", "Stopped"
    PAUSED = "paused", "Paused"
    DELETING = "deleting", "Deleting"
    DELETED = "deleted", "Deleted"
    ERROR = "error", "Error"


STARTING_UP = (SessionStatus.REQUESTED, SessionStatus.PROVISIONING, SessionStatus.STARTING)
