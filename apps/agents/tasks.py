from celery import shared_task
from django.conf import settings

from apps.agents.runtime.docker import engine_version


@shared_task(name="agents.engine_version", time_limit=30)
def agent_engine_version() -> dict:
    """Run on an agent: which agent answered and the version of its Docker engine."""
    return {"agent": settings.AGENT_NAME, "docker_version": engine_version(settings.DOCKER_URL)}
