"""Celery application shared by the manager and every agent worker: the queues of
apps/common/queues.py, and the agent's own start step on a process with AGENT_NAME set (see
`manage.py run_agent`).
"""

import os

from celery import Celery
from celery.signals import task_prerun, worker_process_init
from kombu import Exchange, Queue
from kombu.common import Broadcast

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kasm.settings")

from apps.common.queues import AGENTS_BROADCAST_QUEUE, MANAGER_QUEUE, agent_queue_name

AGENTS_EXCHANGE = Exchange("agents", type="direct")


def agent_queues(agent_name: str) -> list[Queue]:
    """Queues an agent worker consumes: its own, plus the broadcast to all agents."""
    own = agent_queue_name(agent_name)
    return [Queue(own, AGENTS_EXCHANGE, routing_key=own), Broadcast(AGENTS_BROADCAST_QUEUE)]


app = Celery("kasm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_default_queue = MANAGER_QUEUE
app.conf.task_queues = [Queue(MANAGER_QUEUE)]
if os.environ.get("AGENT_NAME"):
    from apps.agents.worker import AgentCheckInStep

    app.conf.task_queues += agent_queues(os.environ["AGENT_NAME"])
    app.steps["worker"].add(AgentCheckInStep)
app.autodiscover_tasks()  # tasks.py: the manager's
app.autodiscover_tasks(related_name="agent_tasks")  # agent_tasks.py: what runs on agents


@worker_process_init.connect
def keep_database_connection(**kwargs) -> None:
    """A worker process runs many short tasks (an agent's report is a query or two): keep its
    Postgres connection between them rather than open one per task (~8 ms here), with the same
    checks as Django between requests (`close_old_database_connections`)."""
    from django.conf import settings
    from django.db import connections

    for connection in connections.all():
        connection.settings_dict["CONN_MAX_AGE"] = settings.WORKER_DATABASE_CONN_MAX_AGE
        connection.settings_dict["CONN_HEALTH_CHECKS"] = True


@task_prerun.connect
def close_old_database_connections(**kwargs) -> None:
    """Before each task, close a connection that errored or outlived its age, as Django does before
    each request. (Celery's own fixup would close it after every task; CELERY_DB_REUSE_MAX stops that.)"""
    from django.db import close_old_connections

    close_old_connections()
