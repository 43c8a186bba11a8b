import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from apps.common.models import BaseModel
from apps.common.units import GIB, MAX_CORES, MAX_GPUS, MAX_MEMORY
from apps.images.choices import CpuAllocationMethod, StreamProtocol


def desktop_resolution_validator(value: str) -> None:
    """WIDTHxHEIGHT within the sizes a desktop's VNC server is started with."""
    size = re.fullmatch(r"([0-9]{3,4})x([0-9]{3,4})", value)
    if not size:
        raise ValidationError("Write the size as WIDTHxHEIGHT, e.g. 1920x1080.")
    width, height = int(size[1]), int(size[2])
    if not (640 <= width <= 7680 and 480 <= height <= 4320):
        raise ValidationError("A desktop is from 640x480 to 7680x4320 pixels.")


class Image(BaseModel):
    """A workspace users can launch: a Docker image plus the resources and settings of its sessions."""

    docker_image = models.CharField(max_length=255, help_text="Docker reference, e.g. kasm-local/desktop:latest.")
    friendly_name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    icon = models.FileField(upload_to="image-icons/", blank=True)
    icon_url = models.CharField(max_length=500, blank=True, help_text="Used when no icon file is uploaded.")
    categories = models.JSONField(default=list, blank=True)
    cores = models.FloatField(default=1, validators=[MinValueValidator(0.1), MaxValueValidator(MAX_CORES)])
    memory = models.BigIntegerField(
        default=GIB, validators=[MinValueValidator(64 * 1024**2), MaxValueValidator(MAX_MEMORY)], help_text="Bytes."
    )
    gpus = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(MAX_GPUS)])
    cpu_allocation_method = models.CharField(
        max_length=16, choices=CpuAllocationMethod.choices, default=CpuAllocationMethod.INHERIT
    )
    stream_protocol = models.CharField(max_length=16, choices=StreamProtocol.choices, default=StreamProtocol.NOVNC)
    run_config = models.JSONField(default=dict, blank=True, help_text="Docker run options merged over defaults.")
    exec_config = models.JSONField(default=dict, blank=True, help_text="Hooks: first_launch, go, assign.")
    network = models.CharField(
        max_length=255,
        blank=True,
        validators=[RegexValidator(r"\A[a-zA-Z0-9][a-zA-Z0-9_.-]*\Z", "A Docker network name: letters, digits, _ . -")],
        help_text="A Docker network the sessions join instead of the agent's isolated session network "
        "(empty: the session network). Sessions on another network are not isolated by the platform's firewall.",
    )
    persistent_profile_path = models.CharField(
        max_length=255,
        blank=True,
        help_text="Keep each user's home between sessions: a Docker volume name or a host path under an allowed "
        "root, with {user_id} (required), {username} and {image_id}; e.g. kasm-profile-{user_id}-{image_id}. "
        "Empty: homes start fresh.",
    )
    volume_mappings = models.JSONField(
        default=list,
        blank=True,
        help_text='Mounted in every session: [{"source": "volume or /host/path", "target": "/path", '
        '"read_only": true}]; sources may use the placeholders above.',
    )
    desktop_resolution = models.CharField(
        max_length=9,
        blank=True,
        validators=[desktop_resolution_validator],
        help_text="A fixed desktop size, e.g. 1920x1080 (from 640x480 to 7680x4320). "
        "Empty: the desktop follows the size of the user's browser tab.",
    )
    enabled = models.BooleanField(default=True)
    archived = models.BooleanField(
        default=False, help_text="Deleted while sessions of it are on record: hidden everywhere, its history kept."
    )
    # String references keep this app free of imports from the agents app above it.
    restrict_to_zone = models.ForeignKey("agents.Zone", null=True, blank=True, on_delete=models.SET_NULL)
    restrict_to_agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.SET_NULL)
    source_registry_url = models.URLField(blank=True, help_text="Registry this image was installed from.")
    source_sha = models.CharField(max_length=128, blank=True, help_text="Registry entry sha when installed.")
    groups = models.ManyToManyField(
        "auth.Group",
        blank=True,
        related_name="workspaces",
        help_text="Groups whose members may launch it (besides groups allowed every workspace).",
    )

    class Meta:
        ordering = ["friendly_name"]

    def __str__(self) -> str:
        return self.friendly_name
