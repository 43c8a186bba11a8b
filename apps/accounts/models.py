import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models

from apps.accounts.choices import ApiPermission
from apps.common.models import BaseModel


class Profile(BaseModel):
    """Per-user settings applied to the user's sessions (language, time zone, extra environment)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    language = models.CharField(max_length=32, default="en_US.UTF-8")
    timezone = models.CharField(max_length=64, default="UTC")
    environment = models.JSONField(default=dict, blank=True, help_text="Extra environment variables for sessions.")
    phone = models.CharField(max_length=50, blank=True)
    organization = models.CharField(max_length=200, blank=True)
    locked = models.BooleanField(default=False, help_text="A locked user cannot log in or launch sessions.")
    ssh_public_key = models.TextField(blank=True)
    show_tips = models.BooleanField(default=True)
    theme = models.CharField(max_length=20, default="Light")
    toggle_control_panel = models.BooleanField(default=True)
    auto_login_kasm = models.BooleanField(default=False)
    # An Image id; a plain value because accounts sits below the images app.
    default_image = models.UUIDField(null=True, blank=True)
    deletion_requested_at = models.DateTimeField(
        null=True, blank=True, help_text="Deleted while sessions still held capacity: the row goes with the last one."
    )

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


# Django's groups have integer keys; the Developer API names them by a UUID derived from the key.
GROUP_ID_NAMESPACE = uuid.UUID("6f1d3a52-8c1b-4c39-9d1e-5b8c2f3a7e10")


def group_public_id_for(group_pk: int) -> uuid.UUID:
    return uuid.uuid5(GROUP_ID_NAMESPACE, f"group:{group_pk}")


class GroupPolicy(BaseModel):
    """A group's priority and settings (see group_settings.py); every group has one."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="policy")
    public_id = models.UUIDField(unique=True, editable=False, help_text="The group_id of the Developer API.")
    priority = models.PositiveIntegerField(
        default=100, help_text="Where groups set the same setting, the lowest number wins."
    )
    all_workspaces = models.BooleanField(default=False, help_text="Members may launch every enabled workspace.")
    settings = models.JSONField(default=dict, blank=True, help_text="Setting name -> value; unset means default.")
    description = models.CharField(max_length=500, blank=True)
    volume_mappings = models.JSONField(
        default=list, blank=True, help_text="Mounted in members' sessions, besides the workspace's own mappings."
    )

    class Meta:
        verbose_name_plural = "group policies"

    def __str__(self) -> str:
        return f"policy of {self.group}"

    def save(self, *args, **kwargs):
        self.public_id = self.public_id or group_public_id_for(self.group_id)
        super().save(*args, **kwargs)


class AuditEvent(models.Model):
    """One administrative write: an admin's action in the console or a Developer API write.

    Names are copied, not only referenced, so the row still says who and what after either is deleted.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_name = models.CharField(max_length=150, blank=True, db_index=True)
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL)
    api_key_name = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)
    address = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.actor_name or self.api_key_name} {self.action} {self.target}"


class WebLogin(AbstractBaseSession):
    """A browser's Django session (SESSION_ENGINE apps.accounts.web_sessions), with the user it is
    logged in as, so that ending a user's logins deletes theirs without reading every session."""

    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    @classmethod
    def get_session_store_class(cls):
        from apps.accounts.web_sessions import SessionStore

        return SessionStore
