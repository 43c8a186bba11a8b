"""Manager side of persistent profiles and volume mappings: which mounts a launch asks for, and
the profiles' records, listed and reset by admins and by their owners."""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from apps.accounts.models import GroupPolicy
from apps.accounts.selectors import user_group_policies
from apps.accounts.services import profile_for_user
from apps.agents.models import Agent
from apps.common.errors import ApplicationError
from apps.common.queues import agent_queue_name, task_enqueue
from apps.common.volumes import mappings_expand, source_kind, source_problems, template_expand
from apps.images.models import Image
from apps.sessions.choices import SessionStatus
from apps.sessions.models import PersistentProfile, Session


class ProfileMode(models.TextChoices):
    """What a launch does with the user's profile (request_kasm's persistent_profile_mode)."""

    ENABLED = "enabled", "Keep the home between sessions"
    DISABLED = "disabled", "A fresh home, not kept, this time"
    RESET = "reset", "Delete the kept home, then keep the new one"


def profile_mode_parsed(value: str) -> ProfileMode:
    """Kasm's values (Enabled, Disabled, Reset), in any case."""
    try:
        return ProfileMode(value.strip().lower())
    except ValueError:
        raise ApplicationError(
            f"persistent_profile_mode is one of {', '.join(m.value.capitalize() for m in ProfileMode)}; not '{value}'."
        ) from None


def session_profile_claim(*, user, image: Image, agent_id, mode: ProfileMode) -> tuple[PersistentProfile | None, bool]:
    """The profile a launch mounts (None: the image keeps none, or this launch asked for none) and
    whether the agent deletes it first. Records that it lives on the launch's agent."""
    if not image.persistent_profile_path or mode == ProfileMode.DISABLED:
        return None, False
    source = template_expand(image.persistent_profile_path, **_placeholders(user, image))
    problems = source_problems(source, host_roots=settings.VOLUME_HOST_ROOTS)
    if problems:
        raise ApplicationError(f"The workspace's persistent profile path is not usable: {' '.join(problems)}")
    profile, created = PersistentProfile.objects.get_or_create(
        source=source,
        defaults={"owner": user, "image": image, "kind": source_kind(source), "last_used_at": timezone.now()},
    )
    if profile.owner_id != user.pk:
        raise ApplicationError("The workspace's persistent profile path gives another user's profile; fix it.")
    if mode == ProfileMode.RESET and not created:
        _profile_in_use_check(profile)
        _removal_enqueue(profile, agent_ids=profile.agents.exclude(pk=agent_id).values_list("pk", flat=True))
    profile.last_used_at = timezone.now()
    profile.save(update_fields=["last_used_at", "updated_at"])
    profile.agents.add(agent_id)
    return profile, mode == ProfileMode.RESET and not created


def session_mapping_specs(*, user, image: Image, group_policies: list[GroupPolicy] | None = None) -> list[dict]:
    """The volume mappings of a launch: the workspace's, then those of the user's groups (their
    policies read here, unless the caller passes them)."""
    mappings = list(image.volume_mappings or [])
    policies = user_group_policies(user) if group_policies is None else group_policies
    for policy in sorted(policies, key=lambda policy: (policy.priority, policy.group.name)):
        mappings.extend(policy.volume_mappings or [])
    mounts = mappings_expand(mappings, **_placeholders(user, image))
    return [mount.as_spec() for mount in mounts]


def _placeholders(user, image: Image) -> dict[str, str]:
    """The values of a template's placeholders; user_id is the one the Developer API shows."""
    return {"username": user.get_username(), "user_id": profile_for_user(user=user).hex_id, "image_id": image.hex_id}


@transaction.atomic
def persistent_profile_reset(*, profile: PersistentProfile) -> None:
    """Delete the profile on every agent that has it (each removes it when it takes the task,
    including one offline now, when it comes back), and forget it."""
    profile = PersistentProfile.objects.select_for_update().get(pk=profile.pk)
    _profile_in_use_check(profile)
    _removal_enqueue(profile, agent_ids=profile.agents.values_list("pk", flat=True))
    profile.delete()


def _profile_in_use_check(profile: PersistentProfile) -> None:
    live = Session.objects.filter(
        owner_id=profile.owner_id, image_id=profile.image_id, status__in=SessionStatus.HOLDING
    ).count()
    if live:
        raise ApplicationError(
            f"{live} session(s) of '{profile.image}' still use this profile; end them, then reset it."
        )


def _removal_enqueue(profile: PersistentProfile, *, agent_ids) -> None:
    agent_ids = list(agent_ids)  # read once: the removal below uses the same agents
    for hostname in Agent.objects.filter(pk__in=agent_ids).values_list("hostname", flat=True):
        task_enqueue("sessions.profile_remove", profile.kind, profile.source, queue=agent_queue_name(hostname))
    profile.agents.remove(*agent_ids)
