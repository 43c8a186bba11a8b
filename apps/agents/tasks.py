"""Celery tasks of the agents app: thin wrappers that parse their message and call a service.

Manager tasks run on the `manager` queue; `agents.sync_images` and `agents.engine_version` run on
one agent's own queue.
"""

import logging

from celery import shared_task
from django.conf import settings

from apps.agents.host_report import host_report_from_message
from apps.agents.identity import agent_identity
from apps.agents.image_sync import ImageSyncPlan, images_sync
from apps.agents.runtime.docker import engine_info
from apps.agents.selectors import agents_online, image_sync_plan
from apps.agents.services import (
    AgentRefused,
    agent_authenticate,
    agent_checkin,
    agent_image_results_record,
    agent_image_states_ensure,
    agent_stats_prune,
    agents_mark_offline,
)
from kasm.celery import MANAGER_QUEUE, agent_queue_name

logger = logging.getLogger(__name__)


@shared_task(name="agents.checkin", time_limit=30, ignore_result=True)
def agent_checkin_task(token: str, credential: str, message: dict) -> None:
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
    """Periodic: send each online agent the images it should have and its prune mode."""
    for agent in agents_online():
        plan = image_sync_plan(agent)
        agent_image_states_ensure(agent=agent, references=plan.keep)
        agent_sync_images_task.apply_async(args=[plan.__dict__], queue=agent_queue_name(agent.hostname))


@shared_task(name="agents.sync_images", time_limit=3600, ignore_result=True)
def agent_sync_images_task(plan: dict) -> dict:
    """On an agent: pull and prune as planned, then report back to the manager."""
    outcome = images_sync(docker_url=settings.DOCKER_URL, plan=ImageSyncPlan(**plan))
    agent_images_report_task.apply_async(args=[agent_identity(), outcome["results"]], queue=MANAGER_QUEUE)
    return outcome


@shared_task(name="agents.images_report", time_limit=30, ignore_result=True)
def agent_images_report_task(identity: dict, results: list[dict]) -> None:
    identity = identity if isinstance(identity, dict) else {}
    agent = agent_authenticate(name=str(identity.get("agent", "")), credential=str(identity.get("credential", "")))
    if agent is None:
        logger.warning("Refused an image report as agent %r: not its credential", identity.get("agent"))
        return
    agent_image_results_record(agent=agent, results=results)


@shared_task(name="agents.engine_version", time_limit=30)
def agent_engine_version() -> dict:
    """On an agent: which agent answered and the version of its Docker engine."""
    return {"agent": settings.AGENT_NAME, "docker_version": engine_info(settings.DOCKER_URL).version}
