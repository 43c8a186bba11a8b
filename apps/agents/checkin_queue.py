"""How check-ins travel: agents append them to one Redis list, and the manager records them in
batches, not one Celery task (and one transaction, and one console push) each.

With 1,000 agents checking in every 30 s that is 33 messages a second; as tasks they cost the
manager a quarter of a core, as batches a few per cent (bench/fleet.py measures both).

Who drains, and when: an agent that finds no drain scheduled (the key DRAIN_SCHEDULED_KEY absent)
queues `agents.checkins_drain` at once and sets the key for DRAIN_KEY_MS. A drain that recorded
anything queues one more a second later (FOLLOW_UP_SECONDS), setting the key again; a check-in
that saw the key therefore arrived before that next drain reads the list (the key lives shorter
than the delay), and one that arrives after it expired starts a drain itself. A drain lost with a
killed worker is replaced by the next check-in after the key expires. The list keeps at most
QUEUE_LIMIT check-ins (the newest): a manager that is down for long finds the latest of each
agent, not hours of backlog.
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
DRAIN_SCHEDULED_KEY = "agents:checkins:drain-scheduled"
DRAIN_KEY_MS = 900
FOLLOW_UP_SECONDS = 1
BATCH_SIZE = 500
QUEUE_LIMIT = 20_000
DRAIN_TASK = "agents.checkins_drain"


@cache
def _redis() -> redis.Redis:
    if not settings.REDIS_URL:
        raise RuntimeError("Agents check in through Redis: set REDIS_URL to the broker's Redis.")
    return redis.Redis.from_url(settings.REDIS_URL)


def checkin_send(token: str, credential: str, message: dict) -> None:
    """Agent side: queue this check-in, and a drain unless one is already scheduled."""
    pipeline = _redis().pipeline()
    pipeline.rpush(QUEUE_KEY, json.dumps([token, credential, message]))
    pipeline.ltrim(QUEUE_KEY, -QUEUE_LIMIT, -1)
    pipeline.set(DRAIN_SCHEDULED_KEY, 1, nx=True, px=DRAIN_KEY_MS)
    *_, drain_needed = pipeline.execute()
    if drain_needed:
        current_app.send_task(DRAIN_TASK, queue=MANAGER_QUEUE)


def checkins_drain() -> int:
    """Manager side: record every queued check-in, BATCH_SIZE per transaction; returns how many."""
    client = _redis()
    drained = 0
    while batch := client.lpop(QUEUE_KEY, BATCH_SIZE):
        agents_checkin([checkin for raw in batch if (checkin := _checkin_parsed(raw)) is not None])
        drained += len(batch)
        if len(batch) < BATCH_SIZE:
            break
    if drained:
        client.set(DRAIN_SCHEDULED_KEY, 1, px=DRAIN_KEY_MS)
        current_app.send_task(DRAIN_TASK, queue=MANAGER_QUEUE, countdown=FOLLOW_UP_SECONDS)
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
