"""Session staging: ready sessions of a workspace that a request claims at once (Kasm's staging).

`staging_fill` (every 10 s, `sessions.staging_fill`) keeps each enabled pool at its target of
staged sessions, started through the normal scheduler (on its zone's agents, for a pool of one
zone), owned by the staging user and never above the pool's maximum, and leaves
STAGING_RESERVED_PERCENT of an agent's cores and memory free for users' own launches. Unclaimed
staged sessions expire through the usual expiry sweep (their `expires_at` is the pool's expiry)
and are replaced at the next fill. Counts come from the database each time, so a restarted manager
neither loses nor duplicates staged sessions.

`staged_session_claim` hands one to a user in a single conditional UPDATE (two requests never get
the same container). Only a request that asks nothing a running container cannot take is served
this way: the same environment (language, time zone and extra variables are set at container
start), no start URL, no persistent profile and no volume mappings (they are mounts).

A claim gives the session a new session token and a new VNC secret. The agent installs the
secret in the container and runs the image's "assign" hook (`sessions.assign`); until it reports
(`staged_session_assigned`), the proxy still reaches the container with the secret it was staged
with, and tries the new one when that is refused. An image without VNC_PASSWORD_COMMAND keeps the
secret it was staged with.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from apps.accounts.models import Profile
from apps.accounts.services import staging_user
from apps.common.hashing import generate_secret, hash_secret
from apps.common.queues import agent_queue_name, task_enqueue
from apps.common.runtime_settings import runtime_setting
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.container_environment import container_environment
from apps.sessions.launcher import VNC_PASSWORD_COMMAND
from apps.sessions.models import Session, StagingPool
from apps.sessions.profiles import session_mapping_specs
from apps.sessions.scheduler import NoCapacity, session_place

logger = logging.getLogger(__name__)
FILL_LOCK = "sessions:staging-fill"
CLAIM_CANDIDATES = 5
# The agent installs a claimed session's new VNC secret this long after the claim, once the user's
# desktop has connected: it is a command run in the container, and it competed with the first frame.
ASSIGN_DELAY_SECONDS = 1


def staging_fill() -> dict[str, int]:
    """Start what each enabled pool lacks; returns how many were started, by pool (the workspace's
    name, and its zone's). One fill at a time across processes (a lock in the shared cache)."""
    if not cache.add(FILL_LOCK, True, timeout=60):
        return {}
    try:
        return {pool.label: _fill(pool) for pool in StagingPool.objects.select_related("image", "zone")}
    finally:
        cache.delete(FILL_LOCK)


def _fill(pool: StagingPool) -> int:
    if not (pool.enabled and pool.image.enabled and not pool.image.archived):
        return 0
    live = pool.sessions.filter(status__in=SessionStatus.LIVE).count()
    wanted = min(pool.ready_target, pool.max_total) - live
    kept_free = runtime_setting("STAGING_RESERVED_PERCENT") / 100
    started = 0
    for _ in range(max(0, wanted)):
        try:
            _stage(pool, kept_free)
        except NoCapacity as refusal:
            logger.info("Staging pool of %s stays at %s: %s", pool.label, live + started, refusal.message)
            break
        started += 1
    return started


@transaction.atomic
def _stage(pool: StagingPool, kept_free: float) -> Session:
    from apps.sessions.services import session_launch_spec

    image, now = pool.image, timezone.now()
    agent = session_place(image, kept_free=kept_free, zone_id=pool.zone_id)
    session = Session.objects.create(
        owner=staging_user(),
        image=image,
        agent_id=agent.pk,
        staged_pool=pool,
        status=SessionStatus.PROVISIONING,
        reserved_cores=image.cores,
        reserved_memory=image.memory,
        reserved_gpus=image.gpus,
        vnc_password=generate_secret(18),
        session_token_hash=hash_secret(generate_secret()),  # no one holds it: a claim sets the user's
        environment=staged_environment(),
        keepalive_at=now,
        start_requested_at=now,
        expires_at=now + timedelta(seconds=pool.expiry_seconds),
    )
    task_enqueue("sessions.launch", session_launch_spec(session), queue=agent_queue_name(agent.hostname))
    return session


def staged_environment() -> dict:
    """What a staged container starts with: a new user's defaults."""
    defaults = Profile()
    return container_environment(
        profile_environment={}, requested={}, language=defaults.language, timezone_name=defaults.timezone
    )


def staged_session_claim(
    *, user, image: Image, environment: dict, token_hash: str, expires_at, group_policies: list
) -> Session | None:
    """A ready staged session of `image` made `user`'s, or None: none ready, another request took
    each one first, or the request needs what a running container cannot take (another
    environment, a persistent profile, volume mappings). The caller rules out a start URL and a
    share, and passes the user's `group_policies` (their volume mappings)."""
    if environment != staged_environment() or image.persistent_profile_path:
        return None
    ready = Session.objects.filter(image=image, staged_pool__isnull=False, status=SessionStatus.RUNNING)
    candidates = list(ready.select_related("agent").order_by("created_at")[:CLAIM_CANDIDATES])
    if not candidates or session_mapping_specs(user=user, image=image, group_policies=group_policies):
        return None
    claim = {"owner": user, "staged_pool": None, "session_token_hash": token_hash, "expires_at": expires_at}
    claim |= {"keepalive_at": timezone.now(), "vnc_password_next": generate_secret(18)}
    for session in candidates:
        claimed = Session.objects.filter(pk=session.pk, staged_pool__isnull=False, status=SessionStatus.RUNNING)
        if claimed.update(**claim):
            for field, value in claim.items():
                setattr(session, field, value)
            session.image = image
            assign = {"session_id": session.hex_id, "vnc_password": session.vnc_password_next}
            assign |= {"exec_config": image.exec_config or {}, "environment": {"KASM_URL": ""}}
            queue = agent_queue_name(session.agent.hostname)
            task_enqueue("sessions.assign", assign, queue=queue, countdown=ASSIGN_DELAY_SECONDS)
            return session
    return None


def staged_session_assigned(*, session: Session, rotated: bool) -> None:
    """The agent installed a claimed session's new VNC secret (`rotated`) and ran its "assign" hook;
    the proxy uses the new secret from now on. Not `rotated`: the image cannot change it while it
    runs, and the secret it was staged with stays."""
    pending = Session.objects.filter(pk=session.pk).exclude(vnc_password_next="")
    if rotated:
        pending.update(vnc_password=F("vnc_password_next"), vnc_password_next="")
        return
    if pending.update(vnc_password_next=""):
        logger.warning(
            "Workspace %s has no %s: its claimed session %s keeps the VNC secret it was staged with",
            session.image.docker_image,
            VNC_PASSWORD_COMMAND,
            session.hex_id,
        )


def staging_pools_with_counts():
    """Every pool with its `ready` (running) and `starting` staged sessions counted."""
    return (
        StagingPool.objects.select_related("image", "zone")
        .annotate(
            ready=Count("sessions", filter=Q(sessions__status=SessionStatus.RUNNING)),
            starting=Count("sessions", filter=Q(sessions__status__in=SessionStatus.STARTING_UP)),
        )
        .order_by("image__friendly_name", "zone__name")
    )


@transaction.atomic
def staging_pool_delete(*, pool: StagingPool) -> int:
    """Delete the pool, its staged sessions destroyed first; returns how many."""
    from apps.sessions.services import session_destroy

    live = list(pool.sessions.filter(status__in=SessionStatus.LIVE).select_related("agent"))
    for session in live:
        session_destroy(session=session, reason="its staging pool was deleted")
    pool.delete()
    return len(live)
