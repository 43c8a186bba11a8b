"""The agent worker's own start and heartbeat: a Celery bootstep that prepares the isolated session
network and its firewall, then checks in with the manager every AGENT_CHECKIN_INTERVAL seconds,
starting at once (the first check-in enrols the agent)."""

import logging

from celery import bootsteps

logger = logging.getLogger(__name__)


def send_checkin() -> None:
    from django.conf import settings

    from apps.agents.host_report import host_report_collect
    from apps.agents.runtime.docker import DockerError
    from apps.common.queues import task_enqueue

    try:
        report = host_report_collect(
            hostname=settings.AGENT_NAME, address=settings.AGENT_ADDRESS, docker_url=settings.DOCKER_URL
        )
    except DockerError as error:
        logger.error("Check-in skipped: %s", error)  # the manager will see this agent go offline
        return
    task_enqueue("agents.checkin", settings.MANAGER_TOKEN, settings.AGENT_CREDENTIAL, report.as_message())


def prepare_session_network() -> None:
    from django.conf import settings

    from apps.agents.runtime.docker import DockerError
    from apps.agents.session_network import session_network_prepare

    try:
        session_network_prepare(settings.DOCKER_URL)
    except DockerError as error:
        logger.error("Session network not ready: %s", error)  # each launch tries again to create it


class AgentCheckInStep(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_entry = None

    def start(self, worker) -> None:
        from django.conf import settings

        prepare_session_network()
        worker.timer.call_after(0, send_checkin)
        self.timer_entry = worker.timer.call_repeatedly(settings.AGENT_CHECKIN_INTERVAL, send_checkin)

    def stop(self, worker) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
