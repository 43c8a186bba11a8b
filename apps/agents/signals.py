"""News from agents for the apps above (sessions): they connect receivers in their AppConfig.ready()."""

from django.dispatch import Signal

# Sent inside the check-in transaction, once per batch of check-ins. kwargs: reports, a list of
# (agent, containers: list of SessionContainer) for the approved agents that checked in.
agents_checked_in = Signal()
# Sent inside the offline sweep's transaction for the agents that missed their check-ins and
# were marked offline. kwargs: agents (id, hostname and last_checkin_at loaded).
agents_went_offline = Signal()
