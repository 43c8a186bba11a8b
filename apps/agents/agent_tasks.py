"""Celery tasks that run on an agent worker (its own queue): they drive the local Docker engine,
never the database, and report back to the manager by task name."""

from celery import shared_task
from django.conf import settings

from apps.agents.identity import agent_identity
from apps.agents.image_sync import ImageSyncPlan, images_sync
from apps.agents.runtime.docker import engine_info
from apps.agents.worker import checkin_interval
from apps.common.queues import task_enqueue


@shared_task(name="agents.sync_images", time_limit=3600, ignore_result=True)
def agent_sync_images_task(plan: dict) -> dict:
    """Pull and prune as planned, then report back to the manager."""
    outcome = images_sync(docker_url=settings.DOCKER_URL, plan=ImageSyncPlan(**plan))
    task_enqueue("agents.images_report", agent_identity(), outcome["results"])
    return outcome


@shared_task(name="agents.engine_version", time_limit=30)
def agent_engine_version() -> dict:
    """Which agent answered and the version of its Docker engine."""
    return {"agent": settings.AGENT_NAME, "docker_version": engine_info(settings.DOCKER_URL).version}


@shared_task(name="agents.checkin_interval_set", time_limit=10, ignore_result=True)
def agent_checkin_interval_set(seconds: int) -> None:
    """The manager's check-in interval (an admin changed it); the heartbeat uses it from its next tick."""
    if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > 0:
        checkin_interval.value = seconds
