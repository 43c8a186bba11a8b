"""Writes of the sessions app: request, launch results, keepalive, pause/resume, destroy, expiry
and reconciliation with what agents report."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Concat
from django.utils import timezone

from apps.accounts.group_settings import UserPolicy
from apps.accounts.models import Profile
from apps.accounts.selectors import user_group_policies, user_policy
from apps.accounts.services import profile_for_user
from apps.agents.capacity import Resources
from apps.agents.models import Agent
from apps.agents.services import agent_release_capacity
from apps.agents.signals import CheckedIn
from apps.common.errors import ApplicationError
from apps.common.hashing import generate_secret, hash_secret
from apps.common.installation import installation_id
from apps.common.queues import agent_queue_name, task_enqueue
from apps.common.realtime import push_after_commit, user_group
from apps.common.runtime_settings import runtime_setting
from apps.images.choices import StreamProtocol
from apps.images.models import Image
from apps.images.selectors import image_launchable_by
from apps.sessions.choices import SessionStatus
from apps.sessions.container_environment import container_environment, start_url_checked
from apps.sessions.models import Session, ShareViewer
from apps.sessions.profiles import ProfileMode, session_mapping_specs, session_profile_claim
from apps.sessions.scheduler import session_place
from apps.sessions.staging import staged_session_claim

logger = logging.getLogger(__name__)
TOPIC_SESSION_STATUS = "session.status"  # pushed to the owner's group on every status change
TOPIC_ACCESS_REVOKED = "access.revoked"  # pushed to a user's group: their desktop and chat sockets close


class PolicyRefusal(ApplicationError):
    """The user's group policy forbids what they asked (the API answers 403)."""


class SessionLimitReached(PolicyRefusal):
    """The user has as many sessions (or cores, or memory) as their policy allows; `sessions` are
    the live ones they could close."""

    def __init__(self, message: str, *, sessions: list[Session]):
        super().__init__(message)
        self.sessions = sessions


@dataclass(frozen=True)
class RequestedSession:
    session: Session
    session_token: str  # shown once; only its hash is stored


def session_request(
    *,
    user,
    image: Image | None = None,
    kasm_url: str = "",
    environment: dict | None = None,
    language: str = "",
    timezone_name: str = "",
    profile_mode: ProfileMode = ProfileMode.ENABLED,
    shared: bool = False,
) -> RequestedSession:
    """Check the user's policy, place the session on an agent (claiming capacity) and queue its
    launch there, with the user's persistent profile as `profile_mode` says. Without `image`, the
    user's default workspace; `shared`: with a share link from the start."""
    group_policies = list(user_group_policies(user))  # read once for the policy, access and mounts
    policy, profile = user_policy(user, group_policies=group_policies), profile_for_user(user=user)
    if profile.locked or not user.is_active:
        raise PolicyRefusal(f"User '{user.get_username()}' is locked or disabled.")
    if shared and not policy.allow_sharing:
        raise PolicyRefusal(f"The groups of '{user.get_username()}' do not allow sharing; leave enable_sharing out.")
    image = image or default_workspace(profile, policy)
    if not image.enabled:
        raise ApplicationError(f"The workspace '{image.friendly_name}' is disabled.")
    if not image_launchable_by(user, image, group_policies=group_policies):
        raise PolicyRefusal(f"'{user.get_username()}' may not launch '{image.friendly_name}'; ask an admin for access.")
    environment = container_environment(
        profile_environment=profile.environment,
        requested=environment or {},
        language=language or profile.language,
        timezone_name=timezone_name or profile.timezone,
    )
    kasm_url = start_url_checked(kasm_url)
    now = timezone.now()
    token = generate_secret()
    expires_at = now + timedelta(seconds=min(policy.keepalive_expiration, policy.session_lifetime))
    with transaction.atomic():
        Profile.objects.select_for_update().filter(user=user).first()  # one request per user at a time
        session_limits_check(user=user, image=image, policy=policy)
        # A staged session serves a request that asks nothing a running container cannot take.
        staged = None
        if not (kasm_url or shared):
            staged = staged_session_claim(
                user=user,
                image=image,
                environment=environment,
                token_hash=hash_secret(token),
                expires_at=expires_at,
                group_policies=group_policies,
            )
        if staged is not None:
            _status_pushed(staged)
            return RequestedSession(session=staged, session_token=token)
        agent = session_place(image)
        persistent_profile, reset = session_profile_claim(user=user, image=image, agent_id=agent.pk, mode=profile_mode)
        session = Session.objects.create(
            owner=user,
            image=image,
            agent_id=agent.pk,
            status=SessionStatus.PROVISIONING,
            reserved_cores=image.cores,
            reserved_memory=image.memory,
            reserved_gpus=image.gpus,
            vnc_password=generate_secret(18),
            session_token_hash=hash_secret(token),
            kasm_url=kasm_url,
            environment=environment,
            persistent_profile=persistent_profile,
            share_id=uuid.uuid4().hex if shared else None,
            keepalive_at=now,
            start_requested_at=now,
            expires_at=expires_at,
        )
        spec = session_launch_spec(session, profile_reset=reset)
        task_enqueue("sessions.launch", spec, queue=agent_queue_name(agent.hostname))
    return RequestedSession(session=session, session_token=token)


def default_workspace(profile: Profile, policy: UserPolicy) -> Image:
    """The workspace a request without one starts: the user's own choice, else their groups'."""
    for image_id in (profile.default_image, policy.default_workspace):
        image = Image.objects.filter(pk=image_id).first() if image_id else None
        if image is not None:
            return image
    raise ApplicationError("No workspace was named and no default workspace is set; choose one.")


def session_limits_check(*, user, image: Image, policy: UserPolicy) -> None:
    """Refuse a session beyond the user's session count, cores or memory (0 means no cap)."""
    live = list(Session.objects.filter(owner=user, status__in=SessionStatus.LIVE).select_related("image"))
    if policy.max_sessions_per_user and len(live) >= policy.max_sessions_per_user:
        raise SessionLimitReached(
            f"You have {len(live)} sessions, the most your groups allow ({policy.max_sessions_per_user}); "
            "close one to start another.",
            sessions=live,
        )
    cores = sum(session.reserved_cores for session in live) + image.cores
    if policy.max_cores_per_user and cores > policy.max_cores_per_user:
        raise SessionLimitReached(
            f"'{image.friendly_name}' needs {image.cores:g} cores; with your sessions that makes {cores:g}, "
            f"more than the {policy.max_cores_per_user:g} your groups allow. Close a session first.",
            sessions=live,
        )
    memory = sum(session.reserved_memory for session in live) + image.memory
    if policy.max_memory_per_user and memory > policy.max_memory_per_user:
        raise SessionLimitReached(
            f"'{image.friendly_name}' needs {image.memory // 1024**2} MB of memory; with your sessions that makes "
            f"{memory // 1024**2} MB, more than the {policy.max_memory_per_user // 1024**2} MB your groups allow. "
            "Close a session first.",
            sessions=live,
        )


def session_launch_spec(session: Session, *, profile_reset: bool = False) -> dict:
    """Everything the agent needs to start the container, as plain JSON; `profile_reset` on the
    first launch of a session that asked for a fresh profile."""
    image, profile = session.image, session.persistent_profile
    started_at = session.start_requested_at or session.created_at
    start_timeout = runtime_setting("SESSION_START_TIMEOUT_SECONDS")
    return {
        "session_id": session.hex_id,
        "container_id": session.container_id,  # set once it ran: a resume finds its container by label
        "username": session.owner.get_username(),
        "image_id": image.hex_id,
        "agent": session.agent.hostname,
        "installation_id": installation_id(),
        "address": session.agent.address,
        "docker_image": image.docker_image,
        "cores": image.cores,
        "memory": image.memory,
        "gpus": image.gpus,
        "cpu_allocation_method": image.cpu_allocation_method,
        "run_config": image.run_config or {},
        "network": image.network,
        "exec_config": image.exec_config or {},
        "staged": session.staged_pool_id is not None,  # its "assign" hook runs at the claim
        "profile": {"kind": profile.kind, "source": profile.source, "reset": profile_reset} if profile else None,
        "mounts": session_mapping_specs(user=session.owner, image=image),
        "tls": image.stream_protocol == StreamProtocol.KASMVNC,
        "start_timeout": start_timeout,
        # A launch redelivered later than this (a message held by a killed worker for the broker's
        # visibility timeout) does nothing: by then the sweep has ended the start.
        "not_after": (started_at + timedelta(seconds=2 * start_timeout)).timestamp(),
        "environment": {
            **{str(k): str(v) for k, v in session.environment.items()},
            "VNC_PW": session.vnc_password,
            "KASM_URL": session.kasm_url,
            "KASM_USER": session.owner.get_username(),
            **desktop_size_environment(image),
        },
    }


def desktop_size_environment(image: Image) -> dict[str, str]:
    """A workspace with a fixed desktop size starts its VNC server at that size, refusing resizes
    (the desktop image's entrypoint reads these); otherwise the desktop follows the tab."""
    if not image.desktop_resolution:
        return {}
    return {"VNC_RESOLUTION": image.desktop_resolution, "VNC_RESIZE": "off"}


def _transition(session: Session, *, to: str, allowed_from: Collection[str], **fields) -> bool:
    """Conditional status change; False when another process moved the session first."""
    updated = Session.objects.filter(pk=session.pk, status__in=allowed_from).update(status=to, **fields)
    if updated:
        session.status = to
        for name, value in fields.items():
            setattr(session, name, value)
        _status_pushed(session)
    return bool(updated)


def _status_pushed(session: Session) -> None:
    """Tell the owner's pages the session's status and its reason, once the change is committed."""
    push_after_commit(
        group=user_group(session.owner_id),
        topic=TOPIC_SESSION_STATUS,
        payload={"kasm_id": session.hex_id, "status": session.status, "message": session.status_message},
    )


def _release(session: Session) -> None:
    """Give the reservation back, once: the flag is claimed with a conditional update."""
    claimed = Session.objects.filter(pk=session.pk, capacity_released=False).update(capacity_released=True)
    if claimed and session.agent_id:
        request = Resources(session.reserved_cores, session.reserved_memory, session.reserved_gpus)
        agent_release_capacity(agent_id=session.agent_id, request=request)


@transaction.atomic
def session_mark_running(*, session: Session, container_id: str, host_port: int) -> None:
    now = timezone.now()
    started = _transition(
        session,
        to=SessionStatus.RUNNING,
        allowed_from=SessionStatus.STARTING_UP,
        container_id=container_id,
        host_port=host_port,
        started_at=now,
        status_message="",
    )
    if not started and session.status in SessionStatus.GONE:
        # deleted while starting: the container may exist already
        task_enqueue("sessions.destroy", session.hex_id, queue=agent_queue_name(session.agent.hostname))


@transaction.atomic
def session_mark_failed(*, session: Session, reason: str) -> None:
    """The launch failed: error state with the reason, and the reservation goes back."""
    if _transition(session, to=SessionStatus.ERROR, allowed_from=SessionStatus.LIVE, status_message=reason):
        _release(session)
        logger.warning("Session %s failed: %s", session.hex_id, reason)


def session_keepalive(*, session: Session) -> Session:
    if session.status not in SessionStatus.LIVE:
        raise ApplicationError(f"Session {session.hex_id} is {session.status}; only a live session can be kept alive.")
    now = timezone.now()
    policy = user_policy(session.owner)
    hard_limit = (session.started_at or session.created_at) + timedelta(seconds=policy.session_lifetime)
    expires_at = min(now + timedelta(seconds=policy.keepalive_expiration), hard_limit)
    Session.objects.filter(pk=session.pk).update(keepalive_at=now, expires_at=expires_at)
    session.keepalive_at, session.expires_at = now, expires_at
    return session


@transaction.atomic
def session_pause(*, session: Session) -> None:
    """Freeze the container's processes (docker pause): its memory stays, and a resume is instant.
    A paused or stopped session keeps its reservation, so its resume always fits."""
    if not _transition(session, to=SessionStatus.PAUSING, allowed_from=[SessionStatus.RUNNING]):
        raise ApplicationError(f"Session {session.hex_id} is {session.status}; only a running session can be paused.")
    task_enqueue("sessions.pause", session.hex_id, queue=agent_queue_name(session.agent.hostname))


@transaction.atomic
def session_stop(*, session: Session) -> None:
    """Stop the container (docker stop): its memory is freed, its files kept; a resume restarts
    its desktop."""
    allowed = [SessionStatus.RUNNING, SessionStatus.PAUSED]
    if not _transition(session, to=SessionStatus.STOPPING, allowed_from=allowed):
        raise ApplicationError(
            f"Session {session.hex_id} is {session.status}; only a running or paused session can be stopped."
        )
    task_enqueue("sessions.stop", session.hex_id, queue=agent_queue_name(session.agent.hostname))


@transaction.atomic
def session_mark_paused(*, session: Session) -> None:
    _transition(session, to=SessionStatus.PAUSED, allowed_from=[SessionStatus.PAUSING])


@transaction.atomic
def session_mark_stopped(*, session: Session) -> None:
    _transition(session, to=SessionStatus.STOPPED, allowed_from=[SessionStatus.STOPPING])


@transaction.atomic
def session_resume(*, session: Session) -> None:
    """Unpause or start the container again; it is running once the workspace answers."""
    if not _transition(
        session, to=SessionStatus.STARTING, allowed_from=SessionStatus.RESUMABLE, start_requested_at=timezone.now()
    ):
        raise ApplicationError(
            f"Session {session.hex_id} is {session.status}; only a paused or stopped session can be resumed."
        )
    session_keepalive(session=session)
    task_enqueue("sessions.launch", session_launch_spec(session), queue=agent_queue_name(session.agent.hostname))


@transaction.atomic
def session_destroy(*, session: Session, reason: str = "") -> None:
    """Queue the deletion. Asked again while it is deleting, the destroy is sent again (the agent's
    side is idempotent), so a lost one never strands the session; a deleted one stays as it is."""
    allowed = SessionStatus.LIVE | {SessionStatus.ERROR}
    deleting = _transition(session, to=SessionStatus.DELETING, allowed_from=allowed, status_message=reason)
    if not deleting and session.status != SessionStatus.DELETING:
        return
    if session.agent_id:
        task_enqueue("sessions.destroy", session.hex_id, queue=agent_queue_name(session.agent.hostname))
    else:
        session_mark_deleted(session=session)


@transaction.atomic
def session_mark_deleted(*, session: Session) -> None:
    if _transition(session, to=SessionStatus.DELETED, allowed_from=[SessionStatus.DELETING]):
        _release(session)
        _user_delete_if_requested(session.owner_id)
        for viewer_id in session.viewers.values_list("user_id", flat=True):
            _user_delete_if_requested(viewer_id)  # temporary viewers of join_kasm go with the session


def _user_delete_if_requested(user_id: int) -> None:
    """A user whose deletion waits (an admin deleted them while their sessions held capacity, or a
    temporary user of request_kasm or join_kasm) goes once none of their sessions holds capacity."""
    requested = Profile.objects.filter(user_id=user_id, deletion_requested_at__isnull=False).exists()
    if requested and not Session.objects.filter(owner_id=user_id, status__in=SessionStatus.HOLDING).exists():
        get_user_model().objects.filter(pk=user_id).delete()


def sessions_destroy_for_deleted_image(*, image: Image) -> bool:
    """Destroy the image's live sessions; True when any session of it is on record (its history)."""
    for session in Session.objects.filter(image=image, status__in=SessionStatus.LIVE).select_related("agent"):
        session_destroy(session=session, reason=f"its workspace '{image.friendly_name}' was deleted")
    return Session.objects.filter(image=image).exists()


def sessions_destroy_for_deleted_user(*, user) -> int:
    """Destroy the user's live sessions; returns how many of their sessions still hold capacity."""
    for session in Session.objects.filter(owner=user, status__in=SessionStatus.LIVE).select_related("agent"):
        session_destroy(session=session, reason="its owner was deleted")
    return Session.objects.filter(owner=user, status__in=SessionStatus.HOLDING).count()


def sessions_expire(*, now: datetime | None = None) -> list[Session]:
    """Destroy the sessions whose expiry passed (no keepalive in time, or their lifetime is over)."""
    now = now or timezone.now()
    expired = list(
        Session.objects.filter(status__in=SessionStatus.LIVE, expires_at__lt=now).select_related("agent", "owner")
    )
    for session in expired:
        session_destroy(session=session, reason="expired")
    return expired


RECONCILE_FIELDS = (
    "id",
    "status",
    "status_message",
    "owner_id",
    "agent_id",
    "created_at",
    "start_requested_at",
    "reserved_cores",
    "reserved_memory",
    "reserved_gpus",
    "restarts",
    "started_at",
)


def sessions_reconcile(*, reports: list[CheckedIn], now: datetime | None = None) -> None:
    """Compare what each agent runs with the database, both ways, and finish what was started.

    - A running session whose container vanished goes to error (capacity released); one whose
      container exited is started again or goes to error, per SESSION_RESTARTS_ALLOWED. Only when
      it was running before the report was collected (`as_of`): a report queued just before a
      launch or a resume finished shows the container as it was.
    - A session still starting whose launch was queued LAUNCH_RESEND_SECONDS ago gets it again: the
      launch is idempotent, so a launch lost with a killed worker (or its report) completes.
    - A deleting session whose container is gone is deleted (capacity released); one whose
      container is still there after LAUNCH_RESEND_SECONDS gets its destroy again.
    - A container with our labels that belongs to no session holding capacity is removed once it has
      been seen for the grace period (so one whose session is still being recorded is not removed).
    - A note that the agent was offline is cleared now that it checks in.

    `reports`: one per check-in of a batch; the sessions of all of them are read in one query.
    """
    # An agent where nothing runs and nothing should costs nothing: the common case of an idle host.
    reports = [report for report in reports if report.containers or report.agent.reserved_sessions]
    if not reports:
        return
    now = now or timezone.now()
    # Every check-in reads these rows: only what the checks need (a session acted on loads the rest).
    agent_ids = [report.agent.pk for report in reports]
    rows = Session.objects.filter(agent__in=agent_ids, status__in=SessionStatus.HOLDING)
    holding_by_agent: dict = {}
    for session in rows.only(*RECONCILE_FIELDS):
        holding_by_agent.setdefault(session.agent_id, {})[session.pk] = session
    for report in reports:
        _reconcile_agent(report, holding_by_agent.get(report.agent.pk, {}), now)


def _reconcile_agent(report: CheckedIn, holding: dict, now: datetime) -> None:
    agent, containers, as_of = report.agent, report.containers, report.as_of or now
    reported = {_as_uuid(c.session_id): c for c in containers}
    for session_id, session in holding.items():
        session.agent = agent
        _reconcile_one(session, reported.get(session_id), now, as_of)
    offline = offline_message(agent)
    if any(session.status_message == offline for session in holding.values()):
        Session.objects.filter(agent=agent, status__in=SessionStatus.LIVE, status_message=offline).update(
            status_message=""
        )
    grace = timedelta(seconds=settings.SESSION_ORPHAN_GRACE_SECONDS)
    for session_id, container in reported.items():
        if session_id in holding or _first_seen(f"sessions:orphan-seen:{container.container_id}", now) > now - grace:
            continue
        logger.warning("Removing orphan container %s on %s", container.container_id[:12], agent.hostname)
        task_enqueue("sessions.destroy", container.session_id, queue=agent_queue_name(agent.hostname))


def _reconcile_one(session: Session, container, now: datetime, as_of: datetime) -> None:
    running_when_collected = session.status == SessionStatus.RUNNING and not (
        session.started_at and session.started_at > as_of
    )
    if running_when_collected and container is None:
        session_mark_failed(session=session, reason="The session's container vanished from its agent.")
    elif running_when_collected and container.status != "running":
        _container_stopped(session, container.status)
    elif session.status in SessionStatus.STARTING_UP and _launch_overdue(session, now):
        logger.warning("Re-sending the launch of session %s to %s", session.hex_id, session.agent.hostname)
        cache.set(f"sessions:launch-resent:{session.hex_id}", now, timeout=24 * 3600)
        task_enqueue("sessions.launch", session_launch_spec(session), queue=agent_queue_name(session.agent.hostname))
    elif session.status == SessionStatus.DELETING and container is None and _gone_a_while(session, now):
        session_mark_deleted(session=session)
    elif session.status == SessionStatus.DELETING and container is not None and _destroy_overdue(session, now):
        logger.warning("Re-sending the destroy of session %s to %s", session.hex_id, session.agent.hostname)
        cache.set(f"sessions:destroy-resent:{session.hex_id}", now, timeout=24 * 3600)
        task_enqueue("sessions.destroy", session.hex_id, queue=agent_queue_name(session.agent.hostname))


def _container_stopped(session: Session, container_status: str) -> None:
    """A running session's container stopped on its own: started again (files kept) while the
    SESSION_RESTARTS_ALLOWED runtime setting allows, else ended in error, its container removed."""
    if session.restarts < runtime_setting("SESSION_RESTARTS_ALLOWED"):
        if _transition(
            session,
            to=SessionStatus.STARTING,
            allowed_from=[SessionStatus.RUNNING],
            start_requested_at=timezone.now(),
            restarts=session.restarts + 1,
            status_message=f"Its container stopped ({container_status}); starting it again.",
        ):
            host = session.agent.hostname
            logger.warning("Restarting the stopped container of session %s on %s", session.hex_id, host)
            task_enqueue("sessions.launch", session_launch_spec(session), queue=agent_queue_name(host))
        return
    session_mark_failed(session=session, reason=f"The session's container stopped ({container_status}).")
    task_enqueue("sessions.destroy", session.hex_id, queue=agent_queue_name(session.agent.hostname))


def _destroy_overdue(session: Session, now: datetime) -> bool:
    """Deleting, with its container still there, since longer than a destroy takes."""
    since = cache.get(f"sessions:destroy-resent:{session.hex_id}") or _first_seen(
        f"sessions:deleting-seen:{session.hex_id}", now
    )
    return since <= now - _resend_interval()


def _gone_a_while(session: Session, now: datetime) -> bool:
    """A deleting session's container is missing for a while, not only between the destroy being
    queued and a launch still creating it."""
    return _first_seen(f"sessions:deleting-gone:{session.hex_id}", now) <= now - _resend_interval()


def _resend_interval() -> timedelta:
    return timedelta(seconds=settings.SESSION_LAUNCH_RESEND_SECONDS)


def _launch_overdue(session: Session, now: datetime) -> bool:
    """Asked for, and last (re-)sent, longer ago than a launch takes when nothing is lost."""
    last_sent = cache.get(f"sessions:launch-resent:{session.hex_id}") or session.start_requested_at
    return (last_sent or session.created_at) <= now - _resend_interval()


def sessions_stalled_fail(*, now: datetime | None = None) -> list[Session]:
    """Sessions that have not started in twice SESSION_START_TIMEOUT_SECONDS (re-sent launches
    included, or their agent never came back) end in error, their container removed."""
    now = now or timezone.now()
    stalled_after = 2 * runtime_setting("SESSION_START_TIMEOUT_SECONDS")
    cutoff = now - timedelta(seconds=stalled_after)
    starting = Session.objects.filter(status__in=SessionStatus.STARTING_UP, start_requested_at__lt=cutoff)
    stalled = list(starting.select_related("agent", "owner"))
    for session in stalled:
        session_mark_failed(session=session, reason=f"The session did not start in {stalled_after} s.")
        if session.agent_id:
            task_enqueue("sessions.destroy", session.hex_id, queue=agent_queue_name(session.agent.hostname))
    return stalled


def _first_seen(key: str, now: datetime) -> datetime:
    """When a condition (an orphan container, a deleting session's container gone) was first seen."""
    return cache.get_or_set(key, now, timeout=24 * 3600)


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def user_access_revoke(*, user_id: int) -> None:
    """A user logged out everywhere, locked or disabled: the session tokens of their sessions and
    their viewer tokens stop working, and their open desktop and chat sockets close."""
    Session.objects.filter(owner_id=user_id).exclude(session_token_hash="").update(session_token_hash="")
    ShareViewer.objects.filter(user_id=user_id).exclude(token_hash="").update(token_hash="")
    push_after_commit(group=user_group(user_id), topic=TOPIC_ACCESS_REVOKED, payload={"user_id": user_id})


OFFLINE_MESSAGE = ("Agent '", "' is offline; the session may be unreachable.")  # around the agent's name


def offline_message(agent: Agent) -> str:
    return agent.hostname.join(OFFLINE_MESSAGE)


def sessions_flag_agents_offline(*, agents: list[Agent]) -> int:
    """Sessions on agents that went silent keep their state but say so (until each checks in
    again): one UPDATE, each session's message naming its own agent."""
    hostname = Subquery(Agent.objects.filter(pk=OuterRef("agent_id")).values("hostname")[:1])
    return Session.objects.filter(agent__in=[agent.pk for agent in agents], status__in=SessionStatus.LIVE).update(
        status_message=Concat(Value(OFFLINE_MESSAGE[0]), hostname, Value(OFFLINE_MESSAGE[1]))
    )
