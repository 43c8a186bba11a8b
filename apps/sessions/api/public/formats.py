"""Kasm's Developer API shapes of our objects (field names as Kasm spells them)."""

from __future__ import annotations

import gc
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import CharField, Func, QuerySet

from apps.accounts.models import GroupPolicy, group_public_id_for
from apps.accounts.services import ATTRIBUTE_FIELDS, profile_for_user
from apps.agents.models import Agent, Zone
from apps.images.choices import CpuAllocationMethod
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session, SessionCommand


def group_public_id(group: Group) -> str:
    return group_public_id_for(group.pk).hex


def user_public_id(user) -> str:
    return profile_for_user(user=user).hex_id


def api_date(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if value else None


def image_dict(image: Image, *, present_on: set[str] | None = None) -> dict:
    return {
        "image_id": image.hex_id,
        "name": image.docker_image,
        "friendly_name": image.friendly_name,
        "description": image.description,
        "image_src": image.icon.url if image.icon else image.icon_url,
        "categories": image.categories,
        "cores": image.cores,
        "memory": image.memory,
        "gpu_count": image.gpus,
        "cpu_allocation_method": CpuAllocationMethod(image.cpu_allocation_method).kasm_name,
        "enabled": image.enabled,
        "available": image.docker_image in (present_on or set()),
        "uncompressed_size_mb": 0,
        "docker_registry": image.docker_image.split("/")[0] if "." in image.docker_image.split("/")[0] else "",
        "zone_id": image.restrict_to_zone.hex_id if image.restrict_to_zone else None,
        "restrict_to_zone": image.restrict_to_zone_id is not None,
        "run_config": image.run_config,
        "exec_config": image.exec_config,
    }


def images_present_anywhere() -> set[str]:
    return {reference for images in Agent.objects.values_list("images_present", flat=True) for reference in images}


class KasmDate(Func):
    """A timestamp as Kasm's API writes it (api_date: "2026-12-02 18:40:00.123456", UTC), written
    by the database: parsing 40,000 timestamps, then formatting them, was a third of a
    10,000-session get_kasms. SQLite stores them as that text, without the fraction when it is 0."""

    output_field = CharField()
    template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"

    def as_sqlite(self, compiler, connection, **extra):
        template = "CASE WHEN length(%(expressions)s) = 19 THEN %(expressions)s || '.000000' ELSE %(expressions)s END"
        return self.as_sql(compiler, connection, template=template, **extra)


class KasmHex(Func):
    """An id as 32 hex digits, written by the database (SQLite stores it so), not one UUID object
    made and formatted per id in Python."""

    output_field = CharField()
    template = "replace(%(expressions)s::text, '-', '')"

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="%(expressions)s", **extra)


# What a kasm's description reads, as plain text and numbers from one query: get_kasms describes
# thousands of sessions, and model instances of 10,000 sessions with their owners, profiles,
# images and agents took 2 s.
KASM_COLUMNS = (
    KasmHex("id"),
    "owner_id",
    "owner__username",
    KasmHex("owner__profile__id"),
    KasmHex("image_id"),
    "image__docker_image",
    "image__friendly_name",
    "image__icon_url",
    "status",
    "status_message",
    "share_id",
    KasmHex("agent_id"),
    "agent__hostname",
    "agent__address",
    "host_port",
    "reserved_cores",
    "reserved_memory",
    "reserved_gpus",
    "container_id",
    KasmDate("started_at"),
    KasmDate("keepalive_at"),
    KasmDate("expires_at"),
    KasmDate("created_at"),
)


def kasm_dict(session: Session) -> dict:
    [kasm] = kasm_dicts(Session.objects.filter(pk=session.pk))
    return kasm


def kasm_dicts(sessions: QuerySet[Session]) -> list[dict]:
    """Kasm's description of each of `sessions`, in one query."""
    rows = list(sessions.values_list(*KASM_COLUMNS))  # tuples: namedtuples cost 30 %
    without_profile = {row[1] for row in rows if row[3] is None}
    made = {user.pk: user_public_id(user) for user in get_user_model().objects.filter(pk__in=without_profile)}
    # 10,000 descriptions are 30,000 new dicts, none in a cycle: without a pause, the cyclic
    # collector walks the whole heap several times meanwhile (a third of the time in a busy process).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return [_kasm(row, made) for row in rows]
    finally:
        if collecting:
            gc.enable()


def _kasm(row: tuple, profile_ids_made: dict) -> dict:
    kasm_id, owner_id, username, profile_id, image_id, docker_image, friendly_name, icon_url = row[:8]
    status, status_message, share_id, agent_id, hostname, address, port, cores, memory, gpus, container_id = row[8:19]
    started, keepalive, expires, created = row[19:]
    return {
        "kasm_id": kasm_id,
        "user_id": profile_id or profile_ids_made[owner_id],
        "username": username,
        "image_id": image_id,
        "operational_status": status,
        "operational_message": status_message,
        "share_id": share_id,
        "hostname": hostname,
        "server_id": agent_id,
        "host": address,
        "port": port,
        "cores": cores,
        "memory": memory,
        "gpus": gpus,
        "start_date": started,
        "keepalive_date": keepalive,
        "expiration_date": expires,
        "created_date": created,
        "container_id": container_id,
        "image": {"image_id": image_id, "name": docker_image, "friendly_name": friendly_name, "image_src": icon_url},
        "port_map": {"vnc": {"port": 6901, "path": f"desktop/{kasm_id}/vnc"}},
    }


# Kasm's `operational_progress` along the way to running.
PROGRESS = {SessionStatus.PROVISIONING: 25, SessionStatus.STARTING: 50, SessionStatus.RUNNING: 100}


def progress(status: str) -> int:
    return PROGRESS.get(status, 0)


def user_dict(user) -> dict:
    profile = profile_for_user(user=user)
    live = user.workspace_sessions.exclude(status__in=SessionStatus.GONE)
    live = live.select_related("image")
    last = user.workspace_sessions.order_by("-created_at").values_list("created_at", flat=True).first()
    return {
        "user_id": user_public_id(user),
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": profile.phone,
        "organization": profile.organization,
        "locked": profile.locked,
        "disabled": not user.is_active,
        "realm": "local",
        "created": api_date(user.date_joined),
        "last_session": api_date(last),
        "groups": [group_dict(group) for group in user.groups.all()],
        "kasms": [{"kasm_id": s.hex_id, "operational_status": s.status, "image_id": s.image.hex_id} for s in live],
    }


def group_dict(group: Group) -> dict:
    return {"group_id": group_public_id(group), "name": group.name}


def group_detail_dict(group: Group, policy: GroupPolicy) -> dict:
    return {**group_dict(group), "priority": policy.priority, "description": policy.description}


def attributes_dict(user) -> dict:
    profile = profile_for_user(user=user)
    attributes = {name: getattr(profile, field) for name, field in ATTRIBUTE_FIELDS.items()}
    default_image = attributes["default_image"]
    return {
        "user_attributes_id": profile.hex_id,
        "user_id": profile.hex_id,
        **attributes,
        "default_image": default_image.hex if default_image else None,
    }


def command_dict(command: SessionCommand) -> dict:
    """A command of exec_command_kasm: `running` until the agent reports, then `done` or `failed`."""
    status = "running" if command.finished_at is None else ("failed" if command.error else "done")
    return {
        "exec_id": command.hex_id,
        "status": status,
        "exit_code": command.exit_code,
        "output": command.output,
        "error": command.error,
        "started": api_date(command.created_at),
        "finished": api_date(command.finished_at),
    }


def zone_dict(zone: Zone) -> dict:
    return {
        "zone_id": zone.hex_id,
        "zone_name": zone.name,
        "description": zone.description,
        "placement_policy": zone.placement_policy or "default",
    }
