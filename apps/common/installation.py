"""The id of this installation (see `Installation`)."""

from __future__ import annotations

from apps.common.models import Installation


def installation_id() -> str:
    """32 hex digits. The row is made by the migrations; a database emptied since (a test's flush)
    gets a new one here, and concurrent creators all settle on the oldest row."""
    installation = Installation.objects.order_by("created_at", "id").first() or Installation.objects.create()
    return installation.id.hex
