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

Each check-in is stamped with Redis's clock when queued, and the drain reads that clock again:
how long it waited is told to the apps above (a report that waited describes the containers as
they were, before a launch that finished meanwhile), with no agent's clock involved.
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


# Queue a check-in stamped with Redis's time, keep the newest QUEUE_LIMIT, open the batch window
# if none is: one round trip, and the stamp and the push are one step.
_QUEUE_SCRIPT = """
local now = redis.call('TIME')
redis.call('RPUSH', KEYS[1], now[1] .. '.' .. string.format('%06d', now[2]) .. ' ' .. ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
return redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3])
"""


@cache
def _queue_script():
    return _redis().register_script(_QUEUE_SCRIPT)


def checkin_send(token: str, credential: str, message: dict) -> None:
    """Agent side: queue this check-in; the first of a batch window queues its drain."""
    entry = json.dumps([token, credential, message])
    if _queue_script()(keys=[QUEUE_KEY, WINDOW_KEY], args=[entry, QUEUE_LIMIT, WINDOW_MS]):
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
        seconds, micros = client.time()
        now = seconds + micros / 1e6
        agents_checkin([checkin for raw in batch if (checkin := _checkin_parsed(raw, now)) is not None])
        drained += len(batch)
        if len(batch) < BATCH_SIZE:
            break
    return drained


def _checkin_parsed(raw: bytes, now: float) -> Checkin | None:
    """A queued check-in (`now`: Redis's time), or None (logged) when it is not one."""
    try:
        queued_at, entry = raw.split(b" ", 1)
        token, credential, message = json.loads(entry)
        if not (isinstance(token, str) and isinstance(credential, str)):
            raise ValueError("token and credential must be strings")
        waited = max(0.0, now - float(queued_at))
        return Checkin(token, credential, host_report_from_message(message), waited)
    except (ValueError, TypeError) as error:
        logger.warning("Refused malformed check-in: %s", error)
        return None
