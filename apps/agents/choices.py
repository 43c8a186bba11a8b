from django.db import models


class AgentStatus(models.TextChoices):
    PENDING = "pending", "Waiting for an admin's approval"
    ONLINE = "online", "Online"
    OFFLINE = "offline", "Offline (missed check-ins)"


class PruneMode(models.TextChoices):
    """Which workspace images an agent deletes on its own; other images on the host are never touched."""

    OFF = "off", "Off"
    NORMAL = "normal", "Normal: untagged (dangling) workspace images"
    AGGRESSIVE = "aggressive", "Aggressive: also images no longer defined in the app"


class AgentImageStatus(models.TextChoices):
    MISSING = "missing", "Missing"
    PRESENT = "present", "Present"
    FAILED = "failed", "Pull failed"
