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
