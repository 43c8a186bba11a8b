from django.db import models

from apps.common.models import BaseModel
from apps.images.models import Image


class Registry(BaseModel):
    """A Kasm-compatible workspace registry, with the last good copy of its list."""

    url = models.URLField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    auto_update = models.BooleanField(default=False)
    is_first_party = models.BooleanField(default=False)
    schema_version = models.CharField(max_length=16, blank=True)
    description = models.TextField(blank=True)
    icon_url = models.CharField(max_length=2000, blank=True)
    list_url = models.CharField(max_length=2000, blank=True)
    contact_url = models.CharField(max_length=2000, blank=True)
    entry_errors = models.JSONField(default=list, blank=True, help_text="Entries of the last update that were invalid.")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True, help_text="Last successful update.")
    last_error = models.TextField(blank=True, help_text="Why the last update failed; empty when it succeeded.")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "registries"

    def __str__(self) -> str:
        return self.name or self.url


class RegistryWorkspace(BaseModel):
    """One workspace offered by a registry, with its security flags and the image installed from it."""

    registry = models.ForeignKey(Registry, on_delete=models.CASCADE, related_name="workspaces")
    entry_key = models.CharField(
        max_length=300, help_text="The image reference, with '#2', '#3'... for later variants of the same image."
    )
    docker_image = models.CharField(max_length=255)
    friendly_name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    sha = models.CharField(max_length=128, blank=True)
    definition = models.JSONField(default=dict, help_text="The workspace entry as the registry serves it.")
    flags = models.JSONField(default=list, blank=True)
    installed_image = models.ForeignKey(
        Image, null=True, blank=True, on_delete=models.SET_NULL, related_name="registry_workspaces"
    )

    class Meta:
        ordering = ["friendly_name"]
        constraints = [
            models.UniqueConstraint(fields=["registry", "entry_key"], name="registry_workspace_unique_entry")
        ]

    def __str__(self) -> str:
        return self.friendly_name
