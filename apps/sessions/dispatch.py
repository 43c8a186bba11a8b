"""Sending session work to an agent's queue (and answers to the manager) by task name, after commit,
so that services and tasks do not import each other."""

from django.db import transaction

from apps.agents.models import Agent
from kasm.celery import MANAGER_QUEUE, agent_queue_name, app


def send_to_agent_after_commit(agent: Agent, task_name: str, *args) -> None:
    queue = agent_queue_name(agent.hostname)
    transaction.on_commit(lambda: app.send_task(task_name, args=list(args), queue=queue))


def send_to_manager(task_name: str, *args) -> None:
    app.send_task(task_name, args=list(args), queue=MANAGER_QUEUE)
