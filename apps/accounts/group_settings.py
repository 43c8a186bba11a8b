"""Group settings: what a group's members may do, typed, each with a default, resolved per user.

A group sets a value or leaves it unset. For a user, each setting comes from the group with the
lowest priority number among the user's groups (the built-in All Users group included) that sets
it, as in Kasm; when none does, the default applies. Workspace grants are not settings: a user may
launch what any of their groups grants (see apps/images/selectors.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from apps.common.errors import InvalidInput
from apps.common.runtime_settings import runtime_settings
from apps.common.units import MAX_CORES, MAX_MEMORY

DAY = 24 * 3600


@dataclass(frozen=True)
class GroupSetting:
    name: str
    kind: type  # int, float, bool or uuid.UUID
    label: str
    help: str
    minimum: float = 0
    maximum: float = 0  # 0: no upper bound besides the type's
    form_scale: int = 1  # forms show the value divided by this (bytes as MB)

    def checked(self, value):
        """`value` as this setting's type, or InvalidInput naming the setting and its bounds."""
        if self.kind is bool:
            if not isinstance(value, bool):
                raise InvalidInput(f"Setting '{self.name}' is true or false.")
            return value
        if self.kind is uuid.UUID:
            try:
                return uuid.UUID(str(value)).hex
            except ValueError:
                raise InvalidInput(f"Setting '{self.name}' is a workspace id (32 hex digits).") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"Setting '{self.name}' is a number.")
        if self.kind is int and value != int(value):
            raise InvalidInput(f"Setting '{self.name}' is a whole number.")
        if value < self.minimum or (self.maximum and value > self.maximum):
            bounds = f"at least {self.minimum:g}" + (f" and at most {self.maximum:g}" if self.maximum else "")
            raise InvalidInput(f"Setting '{self.name}' is {bounds}.")
        return self.kind(value)


DEFAULTS = {
    "max_sessions_per_user": 2,
    "idle_disconnect": 0,
    "allow_sharing": True,
    "allow_clipboard_down": True,
    "allow_clipboard_up": True,
    "allow_uploads": True,
    "allow_downloads": True,
    "default_workspace": None,
    "max_cores_per_user": 0,
    "max_memory_per_user": 0,
}

GROUP_SETTINGS: tuple[GroupSetting, ...] = (
    GroupSetting(
        "max_sessions_per_user",
        int,
        "Sessions per user",
        "How many sessions (running, starting or paused) a member may have at once. 0 means no limit.",
        maximum=1000,
    ),
    GroupSetting(
        "max_cores_per_user",
        float,
        "Cores per user",
        "CPU cores all of a member's sessions may reserve together. 0 means no cap.",
        maximum=MAX_CORES,
    ),
    GroupSetting(
        "max_memory_per_user",
        int,
        "Memory per user (MB)",
        "Memory all of a member's sessions may reserve together. 0 means no cap.",
        maximum=MAX_MEMORY,
        form_scale=1024**2,
    ),
    GroupSetting(
        "keepalive_expiration",
        int,
        "Keepalive expiration (seconds)",
        "A session with no keepalive for this long is destroyed. An open desktop tab keeps it alive.",
        minimum=60,
        maximum=365 * DAY,
    ),
    GroupSetting(
        "session_lifetime",
        int,
        "Session lifetime (seconds)",
        "A session is destroyed this long after it started, keepalives or not.",
        minimum=60,
        maximum=365 * DAY,
    ),
    GroupSetting(
        "idle_disconnect",
        float,
        "Idle disconnect (minutes)",
        "With no keyboard or mouse input from the owner for this long, the desktop's connection closes "
        "(the session keeps running; Reconnect opens it again). Decimals allowed; 0 means never.",
        maximum=7 * 24 * 60,
    ),
    GroupSetting(
        "allow_sharing",
        bool,
        "Allow sharing",
        "Members may share their sessions view-only. Off: no share links, and existing ones stop working.",
    ),
    GroupSetting(
        "allow_clipboard_down",
        bool,
        "Clipboard from the session",
        "Text copied inside the session reaches the member's computer. Off: the proxy drops it from the stream.",
    ),
    GroupSetting(
        "allow_clipboard_up",
        bool,
        "Clipboard into the session",
        "Text copied on the member's computer may be pasted into the session. Off: the proxy drops it.",
    ),
    GroupSetting(
        "allow_uploads",
        bool,
        "Upload files",
        "Members may upload files from their computer into the session's ~/Uploads.",
    ),
    GroupSetting(
        "allow_downloads",
        bool,
        "Download files",
        "Members may download files from their session's home (~/Downloads and below).",
    ),
    GroupSetting(
        "default_workspace",
        uuid.UUID,
        "Default workspace",
        "What 'launch my default' and an API request_kasm without image_id start.",
    ),
)
SETTINGS_BY_NAME = {setting.name: setting for setting in GROUP_SETTINGS}


def group_settings_checked(values: dict) -> dict:
    """A group's settings as stored: known names only, each value of its type and in its bounds."""
    unknown = sorted(set(values) - set(SETTINGS_BY_NAME))
    if unknown:
        raise InvalidInput(f"Unknown group setting(s) {', '.join(unknown)}; known: {', '.join(SETTINGS_BY_NAME)}.")
    return {name: SETTINGS_BY_NAME[name].checked(value) for name, value in values.items()}


@dataclass(frozen=True)
class UserPolicy:
    """The settings in force for one user, and which group each came from ('' for the default)."""

    max_sessions_per_user: int
    max_cores_per_user: float
    max_memory_per_user: int
    keepalive_expiration: int
    session_lifetime: int
    idle_disconnect: float
    allow_sharing: bool
    allow_clipboard_down: bool
    allow_clipboard_up: bool
    allow_uploads: bool
    allow_downloads: bool
    default_workspace: str | None
    sources: dict

    @property
    def idle_disconnect_seconds(self) -> float:
        return self.idle_disconnect * 60


def group_setting_defaults() -> dict:
    """Each setting's value where no group sets it; keepalive and lifetime are the global runtime
    settings (read in one query)."""
    keepalive, lifetime = runtime_settings("SESSION_KEEPALIVE_SECONDS", "SESSION_LIFETIME_SECONDS")
    return {**DEFAULTS, "keepalive_expiration": keepalive, "session_lifetime": lifetime}


def policy_resolved(groups: list[tuple[int, str, dict]]) -> UserPolicy:
    """The policy from `groups` as (priority, name, settings): lowest priority number wins, then name."""
    values, sources = {}, {}
    defaults = group_setting_defaults()
    for setting in GROUP_SETTINGS:
        values[setting.name], sources[setting.name] = defaults[setting.name], ""
        for _priority, name, group_values in sorted(groups, key=lambda group: group[:2]):
            if setting.name in group_values:
                values[setting.name], sources[setting.name] = group_values[setting.name], name
                break
    return UserPolicy(**values, sources=sources)
