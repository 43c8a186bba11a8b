from datetime import timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from apps.agents.choices import AgentImageStatus, AgentStatus, PruneMode
from apps.common.models import BaseModel
from apps.common.units import MAX_CORES, MAX_GPUS, MAX_MEMORY


class Zone(BaseModel):
    """A group of agents (a site or region) that images can be restricted to."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    placement_policy = models.CharField(
        max_length=8,
        choices=[("", "The default (SCHEDULER_POLICY)"), ("spread", "Spread"), ("pack", "Pack")],
        blank=True,
        help_text="Spread: the least loaded agent first. Pack: fill agents one by one, so others stay empty.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Agent(BaseModel):
    """A Docker host that runs session containers, as last reported by its check-in."""

    hostname = models.CharField(max_length=255, unique=True)
    address = models.CharField(
        max_length=255,
        help_text="Where the manager reaches the agent; set at enrolment, changed by admins only.",
    )
    reported_address = models.CharField(
        max_length=255, blank=True, help_text="An address the agent reports that differs from its address (not used)."
    )
    credential_hash = models.CharField(max_length=64, blank=True, help_text="Hash of the agent's own credential.")
    approved = models.BooleanField(default=False, help_text="Approved by an admin: only then does it get sessions.")
    manager_token = models.ForeignKey(
        "ManagerToken",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agents",
        help_text="The manager token its last check-in carried; empty: one the manager does not know (any more).",
    )
    zone = models.ForeignKey(Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="agents")
    enabled = models.BooleanField(default=True, help_text="Disabled agents get no new sessions (drain).")
    status = models.CharField(max_length=16, choices=AgentStatus.choices, default=AgentStatus.PENDING)
    last_checkin_at = models.DateTimeField(null=True, blank=True)
    cores = models.PositiveIntegerField(default=0, help_text="Reported CPU cores.")
    memory = models.BigIntegerField(default=0, help_text="Reported memory, bytes.")
    memory_used = models.BigIntegerField(default=0)
    cpu_percent = models.FloatField(default=0)
    disk_total = models.BigIntegerField(default=0, help_text="Docker data root size, bytes.")
    disk_free = models.BigIntegerField(default=0)
    gpus = models.PositiveIntegerField(default=0, help_text="Reported GPUs.")
    docker_version = models.CharField(max_length=64, blank=True)
    architecture = models.CharField(max_length=32, blank=True)
    images_present = models.JSONField(default=list, blank=True)
    image_sizes = models.JSONField(default=dict, blank=True, help_text="Bytes on disk per image tag.")
    networks = models.JSONField(default=list, blank=True, help_text="The Docker networks its engine has, by name.")
    session_containers = models.JSONField(default=list, blank=True, help_text="Session ids of its containers.")
    cores_override = models.FloatField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(MAX_CORES)], help_text="0 = no override."
    )
    memory_override = models.BigIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(MAX_MEMORY)], help_text="Bytes; 0 = no override."
    )
    gpus_override = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(MAX_GPUS)], help_text="0 = no override."
    )
    prune_mode = models.CharField(max_length=16, choices=PruneMode.choices, default=PruneMode.OFF)
    # What sessions on this agent hold: claimed and released only through services.agent_*_capacity.
    reserved_cores = models.FloatField(default=0)
    reserved_memory = models.BigIntegerField(default=0)
    reserved_gpus = models.PositiveIntegerField(default=0)
    reserved_sessions = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["hostname"]

    def __str__(self) -> str:
        return self.hostname


STATS_DETAIL = timedelta(hours=24)  # each check-in's stats are kept this long, then only hourly averages


class Utilisation(models.Model):
    """What the history charts show of an agent: CPU %, memory and disk used and their totals (bytes)."""

    cpu_percent = models.FloatField()
    memory_used = models.BigIntegerField()
    memory_total = models.BigIntegerField()
    disk_used = models.BigIntegerField()
    disk_total = models.BigIntegerField()

    class Meta:
        abstract = True


class AgentStat(Utilisation):
    """One check-in's utilisation, kept for a day (STATS_DETAIL); AgentStatHour keeps its averages."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="stats")
    recorded_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["agent", "recorded_at"]
        indexes = [models.Index(fields=["agent", "recorded_at"])]

    def __str__(self) -> str:
        return f"{self.agent} at {self.recorded_at:%Y-%m-%d %H:%M:%S}"


class AgentStatHour(Utilisation):
    """An hour of an agent's check-ins, averaged: the history charts beyond a day, kept for the
    retention window (a month of 1,000 agents is 720,000 rows, not 86 million check-ins)."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="hourly_stats")
    hour = models.DateTimeField(db_index=True, help_text="The hour's start (UTC).")
    samples = models.PositiveIntegerField(help_text="Check-ins averaged.")

    class Meta:
        ordering = ["agent", "hour"]
        constraints = [models.UniqueConstraint(fields=["agent", "hour"], name="agent_stat_hour_unique")]

    def __str__(self) -> str:
        return f"{self.agent} in the hour from {self.hour:%Y-%m-%d %H:%M}"


class Gpu(BaseModel):
    """A GPU of an agent, as reported through NVML at the last check-in."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="gpu_devices")
    index = models.PositiveIntegerField()
    uuid = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    memory_total = models.BigIntegerField(default=0)
    memory_used = models.BigIntegerField(default=0)
    temperature_c = models.IntegerField(null=True, blank=True)
    utilization_percent = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["agent", "index"]
        constraints = [models.UniqueConstraint(fields=["agent", "index"], name="gpu_unique_index_per_agent")]

    def __str__(self) -> str:
        return f"{self.agent} GPU {self.index}: {self.name}"


class ManagerToken(BaseModel):
    """A token agents present to the manager. Only its hash is kept.

    The current token has no `expires_at`; rotating gives the previous one an expiry (the grace
    window) so agents keep working while they are re-configured.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"manager token of {self.created_at:%Y-%m-%d %H:%M}" + (" (retiring)" if self.expires_at else "")


class AgentImage(BaseModel):
    """Whether an agent has a workspace image, and why not when a pull failed."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="image_states")
    reference = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=AgentImageStatus.choices, default=AgentImageStatus.MISSING)
    error = models.TextField(blank=True)
    failed_attempts = models.PositiveIntegerField(default=0)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["agent", "reference"]
        constraints = [models.UniqueConstraint(fields=["agent", "reference"], name="agent_image_unique_reference")]

    def __str__(self) -> str:
        return f"{self.reference} on {self.agent}: {self.status}"
