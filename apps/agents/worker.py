"""The agent worker's own start and heartbeat: a Celery bootstep that prepares the isolated session
network and its firewall, then checks in with the manager at once (the first check-in enrols the
agent) and every `checkin_interval` seconds after.

The interval starts as AGENT_CHECKIN_INTERVAL; the manager changes it while the worker runs (the
`agents.checkin_interval_set` task) when an admin changes the setting. Tasks run in the pool's
processes and the heartbeat in the worker's main one, so the value lives in shared memory, made
here before the pool forks."""

import logging
import multiprocessing
import time

from celery import bootsteps

logger = logging.getLogger(__name__)

checkin_interval = multiprocessing.Value("i", 0, lock=False)


def send_checkin() -> None:
    from django.conf import settings
    from redis.exceptions import RedisError

    from apps.agents.checkin_queue import checkin_send
    from apps.agents.host_report import host_report_collect
    from apps.agents.identity import manager_token_for_checkin
    from apps.agents.runtime.docker import DockerError

    try:
        report = host_report_collect(
            hostname=settings.AGENT_NAME,
            address=settings.AGENT_ADDRESS,
            docker_url=settings.DOCKER_URL,
            checkin_interval=checkin_interval.value,
        )
    except DockerError as error:
        logger.error("Check-in skipped: %s", error)  # the manager will see this agent go offline
        return
    try:
        checkin_send(manager_token_for_checkin(), settings.AGENT_CREDENTIAL, report.as_message())
    except RedisError as error:
        logger.error("Check-in not sent (Redis unreachable): %s", error)  # the next tick tries again


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
        self.last_checkin = float("-inf")

    def start(self, worker) -> None:
        from django.conf import settings

        checkin_interval.value = settings.AGENT_CHECKIN_INTERVAL
        prepare_session_network()
        # A one-second tick that checks in when the interval (which may change) has passed.
        self.timer_entry = worker.timer.call_repeatedly(1, self.tick)
        worker.timer.call_after(0, self.tick)

    def tick(self) -> None:
        now = time.monotonic()
        if now - self.last_checkin >= checkin_interval.value:
            self.last_checkin = now
            send_checkin()

    def stop(self, worker) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
