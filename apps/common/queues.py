"""Celery queue names, and the one way to queue work: a task by name, on a queue, after commit.

Manager tasks run on the `manager` queue. Work for one agent goes to that agent's own queue
(`agent_queue_name`), and work for every agent to the `agents.broadcast` fanout queue. Tasks are
sent by name, so no app imports another app's task functions.
"""

from __future__ import annotations

from functools import partial

from celery import current_app
from django.db import transaction

MANAGER_QUEUE = "manager"
AGENTS_BROADCAST_QUEUE = "agents.broadcast"


def agent_queue_name(agent_name: str) -> str:
    """The queue that only the worker of agent `agent_name` consumes."""
    return f"agent.{agent_name}"


def task_enqueue(task_name: str, *args, queue: str = MANAGER_QUEUE, countdown: float = 0) -> None:
    """Send `task_name(*args)` to `queue` once the current transaction commits, or at once outside
    one (an agent worker, which has no database, never waits on one); run `countdown` seconds later."""
    options = {"countdown": countdown} if countdown else {}
    send = partial(current_app.send_task, task_name, args=list(args), queue=queue, **options)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(send)
    else:
        send()
