from django.conf import settings
from django.db import models

from apps.agents.models import Agent, Zone
from apps.common.models import BaseModel
from apps.images.models import Image
from apps.sessions.choices import SessionStatus


class Session(BaseModel):
    """A user's workspace container: where it runs, what it reserved there, and where it is in its life."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workspace_sessions")
    image = models.ForeignKey(Image, on_delete=models.PROTECT, related_name="sessions")
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions")
    status = models.CharField(max_length=16, choices=SessionStatus.choices, default=SessionStatus.PROVISIONING)
    status_message = models.TextField(blank=True, help_text="Why the session is in its state (errors included).")
    container_id = models.CharField(max_length=80, blank=True)
    host_port = models.PositiveIntegerField(null=True, blank=True, help_text="Published port of 6901 on the agent.")
    reserved_cores = models.FloatField(default=0)
    reserved_memory = models.BigIntegerField(default=0)
    reserved_gpus = models.PositiveIntegerField(default=0)
    capacity_released = models.BooleanField(default=False, help_text="The reservation went back to the agent.")
    restarts = models.PositiveSmallIntegerField(
        default=0, help_text="How often its container was started again after it stopped on its own."
    )
    # Server-side only: the proxy authenticates to the container with it; it never reaches a browser.
    vnc_password = models.CharField(max_length=64, blank=True)
    vnc_password_next = models.CharField(
        max_length=64, blank=True, help_text="A claimed staged session's new secret, until its agent installs it."
    )
    session_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    share_id = models.CharField(max_length=32, null=True, blank=True, unique=True)
    kasm_url = models.CharField(max_length=2000, blank=True, help_text="URL the workspace opens at start.")
    environment = models.JSONField(default=dict, blank=True, help_text="Extra env vars asked for this session.")
    persistent_profile = models.ForeignKey(
        "PersistentProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    start_requested_at = models.DateTimeField(
        null=True, blank=True, help_text="When the current start (launch or resume) was asked for."
    )
    keepalive_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    staged_pool = models.ForeignKey(
        "StagingPool",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sessions",
        help_text="Staged by this pool and waiting for a user; cleared when a request claims it.",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["agent", "status"]), models.Index(fields=["image", "staged_pool", "status"])]

    def __str__(self) -> str:
        return f"{self.image} for {self.owner} ({self.status})"

    # For templates, which ask the session rather than compare strings.
    @property
    def is_running(self) -> bool:
        return self.status == SessionStatus.RUNNING

    @property
    def is_paused(self) -> bool:
        return self.status == SessionStatus.PAUSED

    @property
    def is_resumable(self) -> bool:
        return self.status in SessionStatus.RESUMABLE

    @property
    def is_gone(self) -> bool:
        return self.status in SessionStatus.GONE


class ShareViewer(BaseModel):
    """A user who joined a shared session view-only. Kicking keeps the row, so the link stops working for them."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="viewers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shared_sessions")
    token_hash = models.CharField(max_length=64, blank=True, help_text="Viewer token of join_kasm, hashed.")
    kicked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="share_viewer_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} watching {self.session_id}"


class SessionLink(BaseModel):
    """A one-time, short-lived link that opens one session in any browser without a login: the
    `kasm_url` of request_kasm and get_kasm_status. Only the token's hash is kept."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(
        null=True, blank=True, help_text="A newer link to the session was issued: this one opens nothing."
    )
    viewer = models.ForeignKey(
        "ShareViewer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="links",
        help_text="join_kasm's link: it opens the share page as this viewer. Empty: the owner's session.",
    )

    def __str__(self) -> str:
        return f"link to {self.session_id} ({'used' if self.used_at else 'unused'})"


class SessionCommand(BaseModel):
    """A command exec_command_kasm started in a session's container, and its outcome once the
    agent reports it: the call answers at once, and get_exec_command_kasm reads this row."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="commands")
    cmd = models.TextField()
    user = models.CharField(max_length=200, blank=True, help_text="user[:group] it runs as; empty: the image's.")
    finished_at = models.DateTimeField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    output = models.TextField(blank=True, help_text="Its output, the last OUTPUT_KEPT characters.")
    error = models.TextField(blank=True, help_text="Why it could not run (the container gone, Docker's error).")

    OUTPUT_KEPT = 64 * 1024

    def __str__(self) -> str:
        return f"command in {self.session_id}: {self.cmd[:60]}"


class PersistentProfile(BaseModel):
    """A user's home for one workspace, kept between sessions (a Docker volume or a host
    directory), and the agents it was created on: a reset deletes it on each of them."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="persistent_profiles")
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="persistent_profiles")
    kind = models.CharField(max_length=8, help_text="volume or bind (a host path).")
    source = models.CharField(max_length=255, unique=True, help_text="The volume name or host path, expanded.")
    agents = models.ManyToManyField(Agent, blank=True, related_name="persistent_profiles")
    last_used_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_used_at"]

    def __str__(self) -> str:
        return f"profile {self.source} of {self.owner}"


class StagingPool(BaseModel):
    """Ready sessions of one workspace that a request claims at once instead of waiting for a start
    (Kasm's session staging), on any agent or on the agents of one zone. A periodic task keeps
    `ready_target` of them live (started or starting), never more than `max_total`, each destroyed
    after `expiry_seconds` unclaimed. One pool per workspace and zone (and one with no zone)."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="staging_pools")
    zone = models.ForeignKey(
        Zone,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staging_pools",
        help_text="Start its sessions on this zone's agents only; empty: wherever the workspace may run.",
    )
    ready_target = models.PositiveIntegerField(default=1, help_text="How many staged sessions to keep ready.")
    max_total = models.PositiveIntegerField(
        default=5, help_text="Never more staged sessions (ready and starting) than this."
    )
    expiry_seconds = models.PositiveIntegerField(
        default=3600, help_text="An unclaimed staged session is destroyed (and replaced) after this long."
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["image"],
                condition=models.Q(zone__isnull=True),
                name="staging_pool_unique_image_anywhere",
                violation_error_message="This workspace has a pool for any zone already; edit that one.",
            ),
            models.UniqueConstraint(
                fields=["image", "zone"],
                condition=models.Q(zone__isnull=False),
                name="staging_pool_unique_image_zone",
                violation_error_message="This workspace has a pool in that zone already; edit that one.",
            ),
        ]

    @property
    def label(self) -> str:
        return f"{self.image.friendly_name} in {self.zone.name}" if self.zone_id else self.image.friendly_name

    def __str__(self) -> str:
        return f"staging pool of {self.label}"
