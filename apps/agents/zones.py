"""Zones: groups of agents (a site, a region) that workspaces can be restricted to, each with its
placement policy. Writes here, called by the console."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from apps.agents.models import Zone
from apps.common.errors import ApplicationError, InvalidInput
from apps.images.models import Image

POLICIES = ("", "spread", "pack")


def zone_save(*, zone: Zone, name: str, description: str = "", placement_policy: str = "") -> Zone:
    """Create or change a zone; names are unique whatever their case."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("A zone has a name of 1 to 100 characters.")
    if placement_policy not in POLICIES:
        raise InvalidInput("A zone's placement policy is spread, pack or the default.")
    if Zone.objects.filter(name__iexact=name).exclude(pk=zone.pk).exists():
        raise ApplicationError(f"A zone named '{name}' exists.")
    zone.name, zone.description, zone.placement_policy = name, description.strip()[:5000], placement_policy
    try:
        with transaction.atomic():
            zone.save()
    except IntegrityError:
        raise ApplicationError(f"A zone named '{name}' exists.") from None
    return zone


def zone_delete(*, zone: Zone) -> None:
    """Refused while agents or workspaces use it, naming them."""
    agents = list(zone.agents.values_list("hostname", flat=True)[:10])
    workspaces = list(
        Image.objects.filter(restrict_to_zone=zone, archived=False).values_list("friendly_name", flat=True)[:10]
    )
    if agents or workspaces:
        users = [f"agents {', '.join(agents)}"] if agents else []
        users += [f"workspaces {', '.join(workspaces)}"] if workspaces else []
        raise ApplicationError(f"Zone '{zone.name}' is used by {' and '.join(users)}; move them first.")
    try:
        zone.delete()
    except ProtectedError as error:  # what the apps above keep in a zone (staging pools)
        used_by = ", ".join(sorted({str(kept) for kept in error.protected_objects})[:10])
        raise ApplicationError(f"Zone '{zone.name}' is used by {used_by}; delete or move them first.") from None
