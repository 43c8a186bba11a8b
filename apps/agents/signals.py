"""News from agents for the apps above (sessions): they connect receivers in their AppConfig.ready()."""

from django.dispatch import Signal

# Sent inside the check-in transaction. kwargs: agent, containers (list of SessionContainer).
agent_checked_in = Signal()
# Sent when an agent missed its check-ins and was marked offline. kwargs: agent.
agent_went_offline = Signal()
