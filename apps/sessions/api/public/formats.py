"""Kasm's Developer API shapes of our objects (field names as Kasm spells them)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import Group

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


def kasm_dict(session: Session) -> dict:
    agent = session.agent
    return {
        "kasm_id": session.hex_id,
        "user_id": user_public_id(session.owner),
        "username": session.owner.get_username(),
        "image_id": session.image.hex_id,
        "operational_status": session.status,
        "operational_message": session.status_message,
        "share_id": session.share_id,
        "hostname": agent.hostname if agent else None,
        "server_id": agent.hex_id if agent else None,
        "host": agent.address if agent else None,
        "port": session.host_port,
        "cores": session.reserved_cores,
        "memory": session.reserved_memory,
        "gpus": session.reserved_gpus,
        "start_date": api_date(session.started_at),
        "keepalive_date": api_date(session.keepalive_at),
        "expiration_date": api_date(session.expires_at),
        "created_date": api_date(session.created_at),
        "container_id": session.container_id,
        "image": {
            "image_id": session.image.hex_id,
            "name": session.image.docker_image,
            "friendly_name": session.image.friendly_name,
            "image_src": session.image.icon_url,
        },
        "port_map": {"vnc": {"port": 6901, "path": f"desktop/{session.hex_id}/vnc"}},
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
