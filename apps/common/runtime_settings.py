"""Global defaults an admin changes while the platform runs, kept in the database.

Each setting starts from the environment variable of the same name (read once, into Django's
settings); an admin's value, saved on the console's settings page, replaces it for every process
at its next read. Values are read from the database on each use: the table is a handful of rows
and the reads sit on paths that already query (a login, a chat message, a check-in, a periodic
sweep), and a cache would serve a stale value to some process after a change."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from apps.common.errors import InvalidInput
from apps.common.models import RuntimeSetting

DAY = 24 * 3600


@dataclass(frozen=True)
class RuntimeSettingSpec:
    name: str  # the environment variable (and Django setting) that gives the initial value
    section: str
    label: str
    help: str
    minimum: int
    maximum: int

    @property
    def initial(self) -> int:
        return getattr(settings, self.name)

    def checked(self, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{self.label} is a whole number.")
        if not self.minimum <= value <= self.maximum:
            raise InvalidInput(f"{self.label} is between {self.minimum} and {self.maximum}; {value} is not.")
        return value


RUNTIME_SETTINGS: tuple[RuntimeSettingSpec, ...] = (
    RuntimeSettingSpec(
        "SESSION_KEEPALIVE_SECONDS",
        "Sessions",
        "Keepalive expiration (seconds)",
        "A session with no keepalive for this long is destroyed, unless a group policy sets its own.",
        60,
        365 * DAY,
    ),
    RuntimeSettingSpec(
        "SESSION_LIFETIME_SECONDS",
        "Sessions",
        "Session lifetime (seconds)",
        "A session is destroyed this long after it started, unless a group policy sets its own.",
        60,
        365 * DAY,
    ),
    RuntimeSettingSpec(
        "SESSION_START_TIMEOUT_SECONDS",
        "Sessions",
        "Start timeout (seconds)",
        "How long a session may take to start; one still starting after twice this fails with a reason.",
        10,
        3600,
    ),
    RuntimeSettingSpec(
        "SESSION_RESTARTS_ALLOWED",
        "Sessions",
        "Restarts of a stopped container",
        "A running session whose container stopped (Docker restarted, its desktop crashed) is started again "
        "this many times, its files kept; 0: it ends in error and frees its capacity.",
        0,
        10,
    ),
    RuntimeSettingSpec(
        "STAGING_RESERVED_PERCENT",
        "Sessions",
        "Capacity kept from staging (%)",
        "Staging pools start a session on an agent only if this share of its cores and memory stays free "
        "after it, for the launches of users.",
        0,
        90,
    ),
    RuntimeSettingSpec(
        "SESSION_LINK_LIFETIME_SECONDS",
        "Sessions",
        "Session link lifetime (seconds)",
        "How long a kasm_url from the Developer API opens its session without a login; each opens it once.",
        10,
        DAY,
    ),
    RuntimeSettingSpec(
        "SESSION_FILE_TRANSFER_MAX_MB",
        "Sessions",
        "File transfer limit (MB)",
        "The largest upload (all files of one drop together) or download between a browser and a session.",
        1,
        4096,
    ),
    RuntimeSettingSpec(
        "AGENT_CHECKIN_INTERVAL",
        "Agents",
        "Check-in interval (seconds)",
        "How often each agent reports to the manager. Running agents take a new value within seconds.",
        5,
        600,
    ),
    RuntimeSettingSpec(
        "AGENT_OFFLINE_AFTER_MISSED_CHECKINS",
        "Agents",
        "Offline after missed check-ins",
        "An agent silent for this many check-in intervals is marked offline and gets no new sessions.",
        2,
        100,
    ),
    RuntimeSettingSpec(
        "AGENT_STATS_RETENTION_DAYS",
        "Agents",
        "Usage history kept (days)",
        "The dashboard's CPU, memory and disk history (hourly averages; each check-in is kept for a day) "
        "older than this is deleted.",
        1,
        365,
    ),
    RuntimeSettingSpec(
        "MANAGER_TOKEN_GRACE_MINUTES",
        "Agents",
        "Manager token grace (minutes)",
        "After a rotation, the previous manager token still enrols agents for this long.",
        0,
        30 * 24 * 60,
    ),
    RuntimeSettingSpec(
        "REGISTRY_AUTO_UPDATE_INTERVAL",
        "Registries",
        "Automatic update interval (seconds)",
        "Registries with automatic updates on are read again when their last attempt is this old.",
        300,
        30 * DAY,
    ),
    RuntimeSettingSpec(
        "CHAT_MESSAGE_MAX_LENGTH",
        "Chat",
        "Message length (characters)",
        "Longer chat messages are refused with the limit in the error.",
        1,
        10000,
    ),
    RuntimeSettingSpec(
        "CHAT_RATE_LIMIT_MESSAGES",
        "Chat",
        "Messages per window",
        "How many messages one person may send within the rate window below.",
        1,
        1000,
    ),
    RuntimeSettingSpec(
        "CHAT_RATE_LIMIT_SECONDS",
        "Chat",
        "Rate window (seconds)",
        "The window the message limit above counts in.",
        1,
        3600,
    ),
    RuntimeSettingSpec(
        "CHAT_HISTORY_SIZE",
        "Chat",
        "History shown on joining",
        "How many earlier messages someone joining a share sees.",
        0,
        1000,
    ),
    RuntimeSettingSpec(
        "LOGIN_FAILURE_LIMIT",
        "Sign-in",
        "Failures per account",
        "Failed sign-ins (passwords or API keys) an account may have within the window before it is refused.",
        1,
        1000,
    ),
    RuntimeSettingSpec(
        "LOGIN_FAILURE_LIMIT_PER_ADDRESS",
        "Sign-in",
        "Failures per address",
        "Failed sign-ins one client address may have within the window before it is refused.",
        1,
        10000,
    ),
    RuntimeSettingSpec(
        "LOGIN_FAILURE_WINDOW_SECONDS",
        "Sign-in",
        "Failure window (seconds)",
        "How long failures count, and how long a refused account or address waits.",
        60,
        DAY,
    ),
)
SPECS_BY_NAME = {spec.name: spec for spec in RUNTIME_SETTINGS}


def runtime_setting(name: str) -> int:
    """The value in force: the admin's, else the environment's."""
    return runtime_settings(name)[0]


def runtime_settings(*names: str) -> tuple[int, ...]:
    """The values in force of `names`, in that order, read in one query."""
    specs = [SPECS_BY_NAME[name] for name in names]
    saved = dict(RuntimeSetting.objects.filter(name__in=names).values_list("name", "value"))
    return tuple(saved.get(spec.name, spec.initial) for spec in specs)


def runtime_settings_current() -> dict[str, int]:
    return dict(zip(SPECS_BY_NAME, runtime_settings(*SPECS_BY_NAME), strict=True))


@transaction.atomic
def runtime_settings_save(values: dict[str, object]) -> dict[str, tuple[int, int]]:
    """Save the admin's values (all checked before any is saved); a value equal to the
    environment's removes the row, so a later change of the environment applies again.
    Returns {name: (old, new)} for what changed."""
    unknown = sorted(set(values) - set(SPECS_BY_NAME))
    if unknown:
        raise InvalidInput(f"Unknown setting(s) {', '.join(unknown)}.")
    checked = {name: SPECS_BY_NAME[name].checked(value) for name, value in values.items()}
    current = runtime_settings_current()
    changes = {name: (current[name], value) for name, value in checked.items() if current[name] != value}
    for name, (_old, new) in changes.items():
        if new == SPECS_BY_NAME[name].initial:
            RuntimeSetting.objects.filter(name=name).delete()
        else:
            RuntimeSetting.objects.update_or_create(name=name, defaults={"value": new})
    return changes
