"""Writes of the agents app: manager tokens, check-ins, monitoring, settings and image states."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Avg, Count, F, Max, Min, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from apps.agents.capacity import CORE_TOLERANCE, Resources, shortfall
from apps.agents.choices import AgentImageStatus, AgentStatus
from apps.agents.host_report import HostReport
from apps.agents.models import STATS_DETAIL, Agent, AgentImage, AgentStat, AgentStatHour, Gpu, ManagerToken
from apps.agents.selectors import agent_capacity, agent_reserved, agents_online, image_sync_plan
from apps.agents.signals import CheckedIn, agents_checked_in, agents_went_offline
from apps.common.errors import ApplicationError
from apps.common.hashing import generate_secret, hash_secret, secret_matches
from apps.common.installation import installation_id
from apps.common.queues import agent_queue_name, task_enqueue
from apps.common.realtime import CONSOLE_GROUP, push_after_commit
from apps.common.runtime_settings import runtime_setting, runtime_settings

logger = logging.getLogger(__name__)


class AgentRefused(ApplicationError):
    """A check-in or report the manager does not accept; the service has logged why."""


class InvalidManagerToken(AgentRefused):
    """A new agent presented a token the manager does not accept (never, or no longer)."""


MIN_CREDENTIAL_LENGTH = 32
AGENT_ADDRESS_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:-]{0,252}\Z|\[[0-9A-Fa-f:.]{2,45}\]\Z")


@transaction.atomic
def manager_token_rotate(*, grace: timedelta) -> str:
    """Issue a new current token; the previous ones stay valid for `grace`, then are refused."""
    retire_at = timezone.now() + grace
    ManagerToken.objects.filter(expires_at__isnull=True).update(expires_at=retire_at)
    ManagerToken.objects.filter(expires_at__gt=retire_at).update(expires_at=retire_at)
    token = generate_secret()
    ManagerToken.objects.create(token_hash=hash_secret(token))
    return token


def manager_token_write(path: Path, token: str) -> None:
    """Put `token` in the file an agent reads it from (mode 600): `make up`'s local agent reads
    its file at each check-in, so a rotation in the console reaches it without a restart."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(token)


def manager_token_is_valid(token: str, *, now: datetime | None = None) -> bool:
    if not token:
        return False
    unexpired = Q(expires_at__isnull=True) | Q(expires_at__gt=now or timezone.now())
    return ManagerToken.objects.filter(unexpired, token_hash=hash_secret(token)).exists()


@dataclass(frozen=True)
class Checkin:
    """One agent's check-in as it arrived: the manager token, its own credential, its report, and
    how long it waited in the queue (seconds)."""

    token: str
    credential: str
    report: HostReport
    waited: float = 0.0


# How long an agent may take to collect a report (the engine's containers, images, its disk): a
# session that started within this much before the report was queued may be missing from it.
REPORT_COLLECTION_SECONDS = 5


# Written on every check-in, for all agents of a batch in one statement; the other report fields
# (engine, capacity, images, networks) change rarely and are saved for the agents whose changed.
CHECKIN_FIELDS = [
    "status",
    "last_checkin_at",
    "memory_used",
    "cpu_percent",
    "disk_free",
    "session_containers",
    "reported_address",
    "manager_token",
]


def agent_checkin(*, token: str, credential: str, report: HostReport, now: datetime | None = None) -> Agent:
    """Record one check-in (see agents_checkin); raises AgentRefused when it is not accepted."""
    outcome = _checkins_record([Checkin(token, credential, report)], now=now)[report.hostname]
    if isinstance(outcome, AgentRefused):
        raise outcome
    return outcome


def agents_checkin(checkins: list[Checkin], *, now: datetime | None = None) -> list[Agent]:
    """Record a batch of check-ins in one transaction: enrols unknown agents, marks approved ones
    online, keeps the stats history, lets the apps above reconcile, and pushes one console update
    for the batch. Refused check-ins are logged and change nothing. Returns the agents recorded."""
    outcomes = _checkins_record(checkins, now=now)
    return [outcome for outcome in outcomes.values() if isinstance(outcome, Agent)]


@transaction.atomic
def _checkins_record(checkins: list[Checkin], *, now: datetime | None) -> dict[str, Agent | AgentRefused]:
    now = now or timezone.now()
    latest = {checkin.report.hostname: checkin for checkin in checkins}  # an agent's newest report wins
    known = Agent.objects.select_for_update(of=("self",)).select_related("manager_token")
    known = {agent.hostname: agent for agent in known.filter(hostname__in=latest).order_by("hostname")}
    installation = installation_id()
    outcomes: dict[str, Agent | AgentRefused] = {}
    checked_in, stats, batched = [], [], []
    for hostname, checkin in latest.items():
        credential_bound = not getattr(known.get(hostname), "credential_hash", "")
        try:
            agent, created = _agent_identified(known.get(hostname), checkin, now=now)
        except AgentRefused as refusal:
            outcomes[hostname] = refusal
            continue
        report = checkin.report
        came_back = agent.status == AgentStatus.OFFLINE
        had_gpus, images_changed = agent.gpus > 0, created or agent.images_present != report.images
        containers = _own_containers(report, hostname, installation)
        _record_token_presented(agent, checkin.token)
        rarely_changed = _apply_report(agent, report, containers, now)
        rarely_changed += ["credential_hash"] if credential_bound else []
        if created or rarely_changed:
            agent.save(update_fields=None if created else [*CHECKIN_FIELDS, *rarely_changed, "updated_at"])
        else:
            batched.append(agent)
        stats.append(_stat(agent, report, now))
        if had_gpus or report.gpus:
            _sync_gpus(agent, report)
        if images_changed:
            _sync_image_presence(agent, report.images)
        if created or came_back:
            logger.info("Agent %s is %s", agent.hostname, "enrolled" if created else "back online")
        if agent.approved:  # a pending agent runs nothing of ours yet: there is nothing to reconcile
            as_of = now - timedelta(seconds=checkin.waited + REPORT_COLLECTION_SECONDS)
            checked_in.append(CheckedIn(agent, containers, as_of))
        outcomes[hostname] = agent
    _checkin_fields_write(batched)
    AgentStat.objects.bulk_create(stats)
    if checked_in:
        agents_checked_in.send(sender=Agent, reports=checked_in)
    recorded = [outcome for outcome in outcomes.values() if isinstance(outcome, Agent)]
    wanted_interval = runtime_setting("AGENT_CHECKIN_INTERVAL") if recorded else 0
    for agent in recorded:
        reported_interval = latest[agent.hostname].report.checkin_interval
        if reported_interval and reported_interval != wanted_interval:
            agent_checkin_interval_send(agent, wanted_interval)
    if recorded:
        push_after_commit(
            group=CONSOLE_GROUP, topic="agent.checkin", payload={"agents": [agent.hex_id for agent in recorded]}
        )
    return outcomes


def _checkin_fields_write(agents: list[Agent]) -> None:
    """Save CHECKIN_FIELDS of `agents`: one parameterised UPDATE run for each (executemany).
    Django's bulk_update compiles a CASE per field and agent, which was 70 % of a batch's CPU."""
    if not agents:
        return
    connection = connections[Agent.objects.db]
    quote = connection.ops.quote_name
    fields = [Agent._meta.get_field(name) for name in CHECKIN_FIELDS]
    primary_key = Agent._meta.pk
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    # Only the model's own column names are formatted in; every value is a parameter.
    statement = f"UPDATE {quote(Agent._meta.db_table)} SET {assignments} WHERE {quote(primary_key.column)} = %s"  # noqa: S608
    rows = [
        [field.get_db_prep_save(getattr(agent, field.attname), connection) for field in fields]
        + [primary_key.get_db_prep_value(agent.pk, connection)]
        for agent in agents
    ]
    with connection.cursor() as cursor:
        cursor.executemany(statement, rows)


def _stat(agent: Agent, report: HostReport, now: datetime) -> AgentStat:
    return AgentStat(
        agent=agent,
        recorded_at=now,
        cpu_percent=report.cpu_percent,
        memory_used=report.memory_used,
        memory_total=report.memory_total,
        disk_used=report.disk_used,
        disk_total=report.disk_total,
    )


def _agent_identified(agent: Agent | None, checkin: Checkin, *, now: datetime) -> tuple[Agent, bool]:
    """The agent a check-in comes from (`agent`: the one of that name, locked, or None). An
    enrolled agent proves itself with its own credential; the manager token only enrols: a new
    name, or an agent enrolled before credentials existed, binds the credential it presents to its
    name. (Agent, enrolled now)."""
    token, credential, report = checkin.token, checkin.credential, checkin.report
    if agent is not None and agent.credential_hash:
        if not secret_matches(credential, agent.credential_hash):
            logger.warning("Refused check-in as agent %r: not the credential it enrolled with", report.hostname)
            raise AgentRefused(
                f"A check-in as agent '{report.hostname}' presented another credential than the one that agent "
                "enrolled with; if the host was reinstalled, delete the agent in the console to enrol it again."
            )
        return agent, False
    if not manager_token_is_valid(token, now=now):
        logger.warning("Refused check-in from agent %r: invalid or expired manager token", report.hostname)
        raise InvalidManagerToken(
            f"Agent '{report.hostname}' presented an invalid or expired manager token; "
            "configure it with the current token (manage.py manager_token --rotate prints a new one)."
        )
    if len(credential) < MIN_CREDENTIAL_LENGTH:
        raise AgentRefused(f"Agent '{report.hostname}' presented no credential of its own; upgrade its worker.")
    created = agent is None
    if created:
        agent = Agent(hostname=report.hostname, address=report.address, approved=settings.AGENT_AUTO_APPROVE)
    agent.credential_hash = hash_secret(credential)
    return agent, created


def _record_token_presented(agent: Agent, token: str) -> None:
    """Which manager token the check-in carried (the manager token page names agents by it); the
    same as last time, as nearly always, costs no query."""
    token_hash = hash_secret(token)
    if agent.manager_token is None or agent.manager_token.token_hash != token_hash:
        agent.manager_token = ManagerToken.objects.filter(token_hash=token_hash).first()


def _apply_report(agent: Agent, report: HostReport, containers: list, now: datetime) -> list[str]:
    """Copy the report onto the agent; returns the fields outside CHECKIN_FIELDS that changed."""
    # The address is fixed at enrolment: a compromised host must not redirect users' streams.
    agent.reported_address = "" if report.address == agent.address else report.address
    agent.status = AgentStatus.ONLINE if agent.approved else AgentStatus.PENDING
    agent.last_checkin_at = now
    agent.memory_used = report.memory_used
    agent.cpu_percent = report.cpu_percent
    agent.disk_free = report.disk_free
    agent.session_containers = sorted(container.session_id for container in containers)
    rarely_changing = {
        "cores": report.cores,
        "memory": report.memory_total,
        "disk_total": report.disk_total,
        "gpus": len(report.gpus),
        "docker_version": report.docker_version,
        "architecture": report.architecture,
        "images_present": report.images,
        "image_sizes": report.image_sizes,
        "networks": report.networks,
    }
    changed = [name for name, value in rarely_changing.items() if getattr(agent, name) != value]
    for name in changed:
        setattr(agent, name, rarely_changing[name])
    return changed


def _own_containers(report: HostReport, hostname: str, installation: str) -> list:
    """The reported containers this installation put on this agent: only those are reconciled, so
    another installation (or a test run beside `make up`) on the same engine is left alone.
    Containers started before installation ids existed carry only the agent label; they count as
    ours, so an upgrade does not mark every running session's container as vanished."""
    ours = {installation, ""}
    return [c for c in report.containers if c.installation_id in ours and c.agent == hostname]


def _sync_gpus(agent: Agent, report: HostReport) -> None:
    reported = {gpu.index for gpu in report.gpus}
    agent.gpu_devices.exclude(index__in=reported).delete()
    for gpu in report.gpus:
        Gpu.objects.update_or_create(
            agent=agent,
            index=gpu.index,
            defaults={
                "uuid": gpu.uuid,
                "name": gpu.name,
                "memory_total": gpu.memory_total,
                "memory_used": gpu.memory_used,
                "temperature_c": gpu.temperature_c,
                "utilization_percent": gpu.utilization_percent,
            },
        )


def _sync_image_presence(agent: Agent, images: list[str]) -> None:
    states = AgentImage.objects.filter(agent=agent)
    states.filter(reference__in=images).exclude(status=AgentImageStatus.PRESENT).update(
        status=AgentImageStatus.PRESENT, error="", failed_attempts=0
    )
    states.filter(status=AgentImageStatus.PRESENT).exclude(reference__in=images).update(status=AgentImageStatus.MISSING)


def agent_checkin_interval_send(agent: Agent, seconds: int) -> None:
    """Tell a running agent worker the check-in interval; it applies it within a second."""
    task_enqueue("agents.checkin_interval_set", seconds, queue=agent_queue_name(agent.hostname))


def agents_checkin_interval_changed(seconds: int) -> None:
    """An admin changed the interval: tell every online agent now, not at its next check-in (which
    could come after the manager's shorter offline threshold). Agents offline now are sent it when
    their next check-in reports another interval."""
    for agent in Agent.objects.filter(status__in=[AgentStatus.ONLINE, AgentStatus.PENDING]).only("hostname"):
        agent_checkin_interval_send(agent, seconds)


@transaction.atomic
def agents_mark_offline(*, now: datetime | None = None) -> list[Agent]:
    """Mark offline every online agent that missed its last K check-ins, in one UPDATE; tell the
    apps above once for all of them. An agent whose check-in is being recorded (its row locked)
    is skipped: it is not silent."""
    now = now or timezone.now()
    interval, missed = runtime_settings("AGENT_CHECKIN_INTERVAL", "AGENT_OFFLINE_AFTER_MISSED_CHECKINS")
    silent = Agent.objects.select_for_update(skip_locked=True).filter(
        status=AgentStatus.ONLINE, last_checkin_at__lt=now - timedelta(seconds=interval * missed)
    )
    went_offline = list(silent.only("id", "hostname", "last_checkin_at", "status"))
    if not went_offline:
        return []
    Agent.objects.filter(pk__in=[agent.pk for agent in went_offline]).update(status=AgentStatus.OFFLINE)
    for agent in went_offline:
        agent.status = AgentStatus.OFFLINE
        logger.warning("Agent %s missed its check-ins since %s; marked offline", agent.hostname, agent.last_checkin_at)
    agents_went_offline.send(sender=Agent, agents=went_offline)
    push_after_commit(
        group=CONSOLE_GROUP, topic="agent.offline", payload={"agents": [agent.hex_id for agent in went_offline]}
    )
    return went_offline


def agent_stats_roll_up(*, now: datetime | None = None) -> int:
    """Average each complete hour of check-ins not averaged yet into AgentStatHour (one grouped
    query, one INSERT); returns how many hourly rows it wrote."""
    now = now or timezone.now()
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    last = AgentStatHour.objects.aggregate(last=Max("hour"))["last"]
    start = last + timedelta(hours=1) if last else AgentStat.objects.aggregate(first=Min("recorded_at"))["first"]
    if start is None or start >= end:
        return 0
    hours = (
        AgentStat.objects.filter(recorded_at__gte=start, recorded_at__lt=end)
        .annotate(hour=TruncHour("recorded_at", tzinfo=UTC))
        .values("agent_id", "hour")
        .annotate(
            samples=Count("id"),
            cpu=Avg("cpu_percent"),
            memory=Avg("memory_used"),
            disk=Avg("disk_used"),
            memory_top=Max("memory_total"),
            disk_top=Max("disk_total"),
        )
    )
    rows = [
        AgentStatHour(
            agent_id=hour["agent_id"],
            hour=hour["hour"],
            samples=hour["samples"],
            cpu_percent=round(hour["cpu"], 1),
            memory_used=round(hour["memory"]),
            memory_total=hour["memory_top"],
            disk_used=round(hour["disk"]),
            disk_total=hour["disk_top"],
        )
        for hour in hours
    ]
    AgentStatHour.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    return len(rows)


def agent_stats_prune(*, now: datetime | None = None) -> tuple[int, int]:
    """Keep the history bounded: check-ins older than STATS_DETAIL go once their hour is averaged,
    hourly averages older than the retention window go. Returns (check-ins, hours) deleted.
    The roll-up first averages every complete hour, so all check-ins a day old are averaged."""
    now = now or timezone.now()
    agent_stats_roll_up(now=now)
    check_ins, _ = AgentStat.objects.filter(recorded_at__lt=now - STATS_DETAIL).delete()
    retention = timedelta(days=runtime_setting("AGENT_STATS_RETENTION_DAYS"))
    hours, _ = AgentStatHour.objects.filter(hour__lt=now - retention).delete()
    return check_ins, hours


def agent_image_results_record(*, agent: Agent, results: list[dict], now: datetime | None = None) -> None:
    """Store what an image sync found: present, or the pull error (counted, so retries stop)."""
    now = now or timezone.now()
    for result in results:
        state, _ = AgentImage.objects.get_or_create(agent=agent, reference=result["reference"])
        state.checked_at = now
        if result["status"] == AgentImageStatus.PRESENT:
            state.status, state.error, state.failed_attempts = AgentImageStatus.PRESENT, "", 0
        else:
            state.failed_attempts += 1
            state.status, state.error = AgentImageStatus.FAILED, result.get("error", "")
        state.save()


def agent_image_retry(*, agent: Agent, reference: str) -> None:
    """An admin asks for another pull of an image whose pulls failed."""
    AgentImage.objects.filter(agent=agent, reference=reference).update(
        failed_attempts=0, status=AgentImageStatus.MISSING, error=""
    )


CLAIM_ATTEMPTS = 3


def agent_reserve_capacity(*, agent_id, request: Resources, zone_id=None) -> str | None:
    """Claim `request` on the agent for one session; returns why not (and claims nothing) if it does not fit.

    One conditional UPDATE that adds the request where it still fits (capacity from the overrides,
    no request above the physical resources) on an agent that is still online, enabled, approved
    and (with `zone_id`) in that zone: the database checks and adds in one statement, so concurrent
    claims never over-allocate, with no read under a lock before it. When it claims nothing, the
    re-read row says why; if capacity was freed in between, it tries again.
    """
    for _attempt in range(CLAIM_ATTEMPTS):
        if _claim_if_it_fits(agent_id, request, zone_id):
            return None
        agent = Agent.objects.filter(pk=agent_id).first()
        if agent is None:
            return "was removed"
        if not (agent.status == AgentStatus.ONLINE and agent.enabled and agent.approved) or (
            zone_id and agent.zone_id != zone_id
        ):
            return "went offline, was disabled or moved meanwhile"
        reason = shortfall(agent_capacity(agent), agent_reserved(agent), request)
        if reason is not None:
            return reason
    return "is being claimed by other requests at this moment; try again"


# The claim, written once in SQL: Django compiles the same expression tree (~3 ms) on every call,
# more than the statement itself takes, and the scheduler makes one per session.
_CLAIM_SQL = """
UPDATE {table} SET
    reserved_cores = reserved_cores + %s, reserved_memory = reserved_memory + %s,
    reserved_gpus = reserved_gpus + %s, reserved_sessions = reserved_sessions + 1
WHERE id = %s AND status = %s AND enabled = %s AND approved = %s AND (%s IS NULL OR zone_id = %s)
    AND cores >= %s AND memory >= %s AND gpus >= %s
    AND reserved_cores + %s <= (CASE WHEN cores_override > 0 THEN cores_override ELSE cores END) + %s
    AND reserved_memory + %s <= CASE WHEN memory_override > 0 THEN memory_override ELSE memory END
    AND reserved_gpus + %s <= CASE WHEN gpus_override > 0 THEN gpus_override ELSE gpus END
"""


def _claim_if_it_fits(agent_id, request: Resources, zone_id) -> bool:
    connection = connections[Agent.objects.db]
    key = Agent._meta.pk.get_db_prep_value(agent_id, connection)
    zone = Agent._meta.get_field("zone").target_field.get_db_prep_value(zone_id, connection)
    cores, memory, gpus = request.cores, request.memory, request.gpus
    fits = [cores, memory, gpus, cores, CORE_TOLERANCE, memory, gpus]
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL.format(table=connection.ops.quote_name(Agent._meta.db_table)),
            [cores, memory, gpus, key, AgentStatus.ONLINE.value, True, True, zone, zone, *fits],
        )
        return cursor.rowcount == 1


def agent_release_capacity(*, agent_id, request: Resources) -> None:
    """Give back what one session claimed."""
    _add_reservation(agent_id, Resources(-request.cores, -request.memory, -request.gpus), sessions=-1)


def _add_reservation(agent_id, delta: Resources, *, sessions: int) -> None:
    Agent.objects.filter(pk=agent_id).update(
        reserved_cores=F("reserved_cores") + delta.cores,
        reserved_memory=F("reserved_memory") + delta.memory,
        reserved_gpus=F("reserved_gpus") + delta.gpus,
        reserved_sessions=F("reserved_sessions") + sessions,
    )


def agent_image_states_ensure(*, agent: Agent, references: list[str]) -> None:
    """Give every image the agent should have a state row, so the console lists each one."""
    present = set(agent.images_present)
    AgentImage.objects.bulk_create(
        [
            AgentImage(
                agent=agent,
                reference=reference,
                status=AgentImageStatus.PRESENT if reference in present else AgentImageStatus.MISSING,
            )
            for reference in references
        ],
        ignore_conflicts=True,
    )


def agent_update_settings(
    *,
    agent: Agent,
    enabled: bool,
    cores_override: float,
    memory_override: int,
    gpus_override: int,
    prune_mode: str,
    zone=None,
    address: str | None = None,
) -> Agent:
    """Apply the admin's settings. Disabling drains: running sessions stay, new ones go elsewhere.
    Only here does an agent's address change (sessions started later are reached there)."""
    if min(cores_override, memory_override, gpus_override) < 0:
        raise ApplicationError("Overrides cannot be negative; use 0 for no override.")
    if gpus_override and agent.gpus == 0:
        raise ApplicationError(
            f"Agent '{agent.hostname}' has no physical GPU; a GPU override needs at least one (set it to 0)."
        )
    if address and address != agent.address:
        _address_set(agent, address)
    agent.enabled, agent.prune_mode, agent.zone = enabled, prune_mode, zone
    agent.cores_override, agent.memory_override, agent.gpus_override = cores_override, memory_override, gpus_override
    agent.save(
        update_fields=[
            "enabled",
            "prune_mode",
            "zone",
            "address",
            "reported_address",
            "cores_override",
            "memory_override",
            "gpus_override",
            "updated_at",
        ]
    )
    push_after_commit(group=CONSOLE_GROUP, topic="agent.settings", payload={"agent": agent.hex_id})
    return agent


def _address_set(agent: Agent, address: str) -> None:
    """An admin's address for the agent (the only way it changes); a differing report is moot now."""
    if not AGENT_ADDRESS_PATTERN.match(address):
        raise ApplicationError(f"'{address[:100]}' is not a host name or IP address.")
    agent.address, agent.reported_address = address, ""


def agent_from_identity(identity: object, *, about: str) -> Agent | None:
    """The approved agent an agent's report comes from (`{"agent", "credential"}`, see
    identity.agent_identity), or None, logged, when the credential is not that agent's."""
    identity = identity if isinstance(identity, dict) else {}
    name = str(identity.get("agent", ""))
    agent = agent_authenticate(name=name, credential=str(identity.get("credential", "")))
    if agent is None:
        logger.warning("Refused %s as agent %r: not its credential", about, name)
    return agent


def agent_authenticate(*, name: str, credential: str) -> Agent | None:
    """The approved agent `name` if `credential` is its own, else None (the caller logs the refusal)."""
    agent = Agent.objects.filter(hostname=name, approved=True).exclude(credential_hash="").first()
    if agent is None or not secret_matches(credential, agent.credential_hash):
        return None
    return agent


@transaction.atomic
def agent_approve(*, agent: Agent, address: str | None = None) -> Agent:
    """An admin accepts an enrolled agent (at its reported address, or `address`): it gets sessions
    from its next check-in on."""
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    if address:
        _address_set(agent, address)
    agent.approved = True
    agent.save(update_fields=["approved", "address", "reported_address", "updated_at"])
    logger.info("Agent %s approved at %s", agent.hostname, agent.address)
    push_after_commit(group=CONSOLE_GROUP, topic="agent.settings", payload={"agent": agent.hex_id})
    return agent


def agents_image_sync_dispatch() -> None:
    """Send each online agent the images it should have and its prune mode (on its own queue)."""
    for agent in agents_online():
        plan = image_sync_plan(agent)
        agent_image_states_ensure(agent=agent, references=plan.keep)
        task_enqueue("agents.sync_images", plan.__dict__, queue=agent_queue_name(agent.hostname))
