"""Manager-side Celery tasks of the agents app (the `manager` queue): each parses its message and
calls a service. What runs on the agents is in agent_tasks.py."""

import logging

from celery import shared_task

from apps.agents.checkin_queue import checkins_drain
from apps.agents.host_report import host_report_from_message
from apps.agents.services import (
    AgentRefused,
    agent_checkin,
    agent_from_identity,
    agent_image_results_record,
    agent_stats_prune,
    agents_image_sync_dispatch,
    agents_mark_offline,
)

logger = logging.getLogger(__name__)


@shared_task(name="agents.checkins_drain", time_limit=120, ignore_result=True)
def agents_checkins_drain_task() -> None:
    """Record the check-ins agents queued (see checkin_queue)."""
    checkins_drain()


@shared_task(name="agents.checkin", time_limit=30, ignore_result=True)
def agent_checkin_task(token: str, credential: str, message: dict) -> None:
    """One check-in as a task: how agents of the previous release check in until upgraded."""
    try:
        agent_checkin(token=token, credential=credential, report=host_report_from_message(message))
    except ValueError as error:
        logger.warning("Refused malformed check-in: %s", error)
    except AgentRefused:
        pass  # logged by the service; a refused check-in changes nothing


@shared_task(name="agents.monitor", time_limit=60, ignore_result=True)
def agents_monitor_task() -> None:
    """Periodic: mark silent agents offline and trim the stats history."""
    agents_mark_offline()
    agent_stats_prune()


@shared_task(name="agents.dispatch_image_sync", time_limit=60, ignore_result=True)
def agents_dispatch_image_sync_task() -> None:
    """Periodic, and after an install: send each online agent the images it should have."""
    agents_image_sync_dispatch()


@shared_task(name="agents.images_report", time_limit=30, ignore_result=True)
def agent_images_report_task(identity: dict, results: list[dict]) -> None:
    agent = agent_from_identity(identity, about="an image report")
    if agent is not None:
        agent_image_results_record(agent=agent, results=results)
