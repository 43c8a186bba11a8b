"""News from agents for the apps above (sessions): they connect receivers in their AppConfig.ready()."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.dispatch import Signal


@dataclass(frozen=True)
class CheckedIn:
    """One agent's check-in for the apps above: its containers of this installation, and the
    latest moment the report can describe (it was collected before then, on the manager's clock;
    None: now). A session that started after `as_of` may be missing from it without having gone."""

    agent: object
    containers: list = field(default_factory=list)
    as_of: datetime | None = None


# Sent inside the check-in transaction, once per batch of check-ins. kwargs: reports, a list of
# CheckedIn for the approved agents that checked in.
agents_checked_in = Signal()
# Sent inside the offline sweep's transaction for the agents that missed their check-ins and
# were marked offline. kwargs: agents (id, hostname and last_checkin_at loaded).
agents_went_offline = Signal()
