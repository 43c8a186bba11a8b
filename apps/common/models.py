import uuid

from django.db import models


class BaseModel(models.Model):
    """A row with a UUID primary key (shown to users and APIs as 32 hex digits) and timestamps."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def hex_id(self) -> str:
        return self.id.hex


class Installation(models.Model):
    """This installation's identity: one row, created by the first migration. Docker objects the
    platform creates carry its id, so two installations sharing one engine never touch each
    other's containers."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"installation {self.id.hex}"


class RuntimeSetting(models.Model):
    """An admin's value for one of the settings in apps/common/runtime_settings.py; a setting
    without a row has the value the environment gave at start."""

    name = models.CharField(max_length=64, primary_key=True)
    value = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} = {self.value}"
