"""Receivers of the agents app's news (connected in SessionsConfig.ready)."""

from django.dispatch import receiver

from apps.agents.signals import agent_checked_in, agent_went_offline
from apps.sessions.services import sessions_flag_agent_offline, sessions_reconcile


@receiver(agent_checked_in, dispatch_uid="sessions_reconcile_on_checkin")
def reconcile_on_checkin(sender, agent, containers, **kwargs) -> None:
    sessions_reconcile(agent=agent, containers=containers)


@receiver(agent_went_offline, dispatch_uid="sessions_flag_on_agent_offline")
def flag_on_agent_offline(sender, agent, **kwargs) -> None:
    sessions_flag_agent_offline(agent=agent)
