"""How check-ins travel: agents append them to one Redis list, and the manager records them in
batches, not one Celery task (and one transaction, and one console push) each.

With 1,000 agents checking in every 30 s that is 33 messages a second; as tasks they cost the
manager a quarter of a core, as batches a few per cent (bench/fleet.py measures both).

Who drains, and when: the first check-in after a drain opens a batch window (the key
WINDOW_KEY, set for WINDOW_MS) and queues `agents.checkins_drain`; later check-ins see the window
open and queue nothing. A drain that starts while the window is open queues itself again for
when it closes (the manager's own countdown, so an agent's clock does not matter) and returns; once
it is closed it reads the list. So every check-in that saw the window open is in the list before
the drain reads it, and one that arrives after the window closed opens the next. A drain lost with
a killed worker costs nothing: its window expires and the next check-in opens another. The list
keeps at most QUEUE_LIMIT check-ins (the newest): a manager that is down for long finds the latest
of each agent, not hours of backlog.
"""

from __future__ import annotations

import json
import logging
from functools import cache

import redis
from celery import current_app
from django.conf import settings

from apps.agents.host_report import host_report_from_message
from apps.agents.services import Checkin, agents_checkin
from apps.common.queues import MANAGER_QUEUE

logger = logging.getLogger(__name__)

QUEUE_KEY = "agents:checkins"
WINDOW_KEY = "agents:checkins:window"
WINDOW_MS = 1000
BATCH_SIZE = 500
QUEUE_LIMIT = 20_000
DRAIN_TASK = "agents.checkins_drain"


@cache
def _redis() -> redis.Redis:
    if not settings.REDIS_URL:
        raise RuntimeError("Agents check in through Redis: set REDIS_URL to the broker's Redis.")
    return redis.Redis.from_url(settings.REDIS_URL)


def checkin_send(token: str, credential: str, message: dict) -> None:
    """Agent side: queue this check-in; the first of a batch window queues its drain."""
    pipeline = _redis().pipeline()
    pipeline.rpush(QUEUE_KEY, json.dumps([token, credential, message]))
    pipeline.ltrim(QUEUE_KEY, -QUEUE_LIMIT, -1)
    pipeline.set(WINDOW_KEY, 1, nx=True, px=WINDOW_MS)
    *_, window_opened = pipeline.execute()
    if window_opened:
        current_app.send_task(DRAIN_TASK, queue=MANAGER_QUEUE)


def checkins_drain() -> int:
    """Manager side: once the batch window is closed, record every queued check-in, BATCH_SIZE
    per transaction; returns how many (0 when it came too early and queued itself again)."""
    client = _redis()
    open_ms = client.pttl(WINDOW_KEY)
    if open_ms > 0:
        current_app.send_task(DRAIN_TASK, queue=MANAGER_QUEUE, countdown=open_ms / 1000)
        return 0
    drained = 0
    while batch := client.lpop(QUEUE_KEY, BATCH_SIZE):
        agents_checkin([checkin for raw in batch if (checkin := _checkin_parsed(raw)) is not None])
        drained += len(batch)
        if len(batch) < BATCH_SIZE:
            break
    return drained


def _checkin_parsed(raw: bytes) -> Checkin | None:
    """A queued check-in, or None (logged) when it is not one."""
    try:
        token, credential, message = json.loads(raw)
        if not (isinstance(token, str) and isinstance(credential, str)):
            raise ValueError("token and credential must be strings")
        return Checkin(token, credential, host_report_from_message(message))
    except (ValueError, TypeError) as error:
        logger.warning("Refused malformed check-in: %s", error)
        return None
