from django.conf import settings
from django.db import models

from apps.accounts.choices import ApiPermission
from apps.common.models import BaseModel


class Profile(BaseModel):
    """Per-user settings applied to the user's sessions (language, time zone, extra environment)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    language = models.CharField(max_length=32, default="en_US.UTF-8")
    timezone = models.CharField(max_length=64, default="UTC")
    environment = models.JSONField(default=dict, blank=True, help_text="Extra environment variables for sessions.")

    class Meta:
        permissions = [("access_console", "Can use the admin console")]

    def __str__(self) -> str:
        return f"profile of {self.user}"


class ApiKey(BaseModel):
    """A Developer API credential: a public key plus a secret of which only the hash is kept."""

    name = models.CharField(max_length=100)
    key = models.CharField(max_length=64, unique=True)
    secret_hash = models.CharField(max_length=64)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    permissions = models.JSONField(default=list, blank=True, help_text="Names from ApiPermission.")
    enabled = models.BooleanField(default=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return self.name

    def has_permission(self, permission: ApiPermission) -> bool:
        return ApiPermission.GLOBAL_ADMIN in self.permissions or permission in self.permissions
