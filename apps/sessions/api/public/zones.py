"""Zone calls."""

from __future__ import annotations

from apps.accounts.choices import ApiPermission as P
from apps.accounts.models import ApiKey
from apps.agents.models import Zone
from apps.sessions.api.public import formats as fmt
from apps.sessions.api.public.dispatch import call


@call("get_zones", P.AGENTS_VIEW)
def get_zones(api_key: ApiKey, body: dict) -> dict:
    return {"zones": [fmt.zone_dict(zone) for zone in Zone.objects.order_by("name")]}
