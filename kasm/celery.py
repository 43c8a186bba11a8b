"""Celery application shared by the manager and every agent worker.

Manager tasks go to the `manager` queue. Work for one agent goes to that agent's own queue
(`agent_queue_name`), and work for every agent to the `agents.broadcast` fanout queue. An agent
worker is a process with AGENT_NAME set (see `manage.py run_agent`).
"""

import os

from celery import Celery
from kombu import Exchange, Queue
from kombu.common import Broadcast

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kasm.settings")

MANAGER_QUEUE = "manager"
AGENTS_BROADCAST_QUEUE = "agents.broadcast"
AGENTS_EXCHANGE = Exchange("agents", type="direct")


def agent_queue_name(agent_name: str) -> str:
    """The queue that only the worker of agent `agent_name` consumes."""
    return f"agent.{agent_name}"


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
app.autodiscover_tasks()
