"""Security review flags of a workspace definition, as the registry format describes them.

A flag is raised for every `run_config` / `exec_config` property that grants more than a plain
sandboxed container; the console links each flag identifier to its explanation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

FLAG_USER = "user"
FLAG_PRIVILEGED = "privileged"
FLAG_PROPERTY = "flag_property"

# Presentation and harmless settings: never flagged.
IGNORED_RUN_PROPERTIES = frozenset(
    {"hostname", "entrypoint", "environment", "shm_size", "name", "labels", "working_dir", "command", "tty"}
)
# Settings that only restrict the container further.
SAFE_RUN_PROPERTIES = frozenset(
    {"mem_limit", "memswap_limit", "nano_cpus", "cpu_period", "cpu_quota", "cpu_shares", "pids_limit", "read_only"}
)
# `user` values that mean the unprivileged default user of Kasm-style images (uid 1000).
UNPRIVILEGED_USERS = frozenset({"1000", "1000:1000", "kasm-user"})


@dataclass(frozen=True)
class SecurityFlag:
    property: str
    flag: str
    source: str  # "run_config" or "exec_config"

    def as_dict(self) -> dict:
        return asdict(self)


def _is_unprivileged_user(value: object) -> bool:
    return not isinstance(value, bool) and str(value) in UNPRIVILEGED_USERS


def _restricts(name: str, value: object) -> bool:
    """A limit restricts only when it is a positive number (0 or -1 mean "unlimited" to Docker);
    `read_only` only when true."""
    if name == "read_only":
        return value is True
    return isinstance(value, (int, float, str)) and not isinstance(value, bool) and _positive(value)


def _positive(value: int | float | str) -> bool:
    try:
        return float(str(value).rstrip("bkmgBKMG")) > 0
    except ValueError:
        return False


def run_config_flags(run_config: dict) -> list[SecurityFlag]:
    flags = []
    for name, value in run_config.items():
        if name == "user":
            if not _is_unprivileged_user(value):
                flags.append(SecurityFlag(name, FLAG_USER, "run_config"))
        elif name == "privileged":
            if value is not False:
                flags.append(SecurityFlag(name, FLAG_PRIVILEGED, "run_config"))
        elif name in SAFE_RUN_PROPERTIES:
            if not _restricts(name, value):
                flags.append(SecurityFlag(name, FLAG_PROPERTY, "run_config"))
        elif name not in IGNORED_RUN_PROPERTIES:
            flags.append(SecurityFlag(name, FLAG_PROPERTY, "run_config"))
    return flags


def exec_config_flags(exec_config: dict) -> list[SecurityFlag]:
    """An exec hook is flagged when it runs as another user than 1000 (often root) or privileged."""
    flags = []
    for event, hook in exec_config.items():
        if not isinstance(hook, dict):
            continue
        if "user" in hook and not _is_unprivileged_user(hook["user"]):
            flags.append(SecurityFlag(event, FLAG_USER, "exec_config"))
        if hook.get("privileged", False) is not False:
            flags.append(SecurityFlag(event, FLAG_PRIVILEGED, "exec_config"))
    return flags


def workspace_flags(*, run_config: dict, exec_config: dict) -> list[dict]:
    return [flag.as_dict() for flag in run_config_flags(run_config) + exec_config_flags(exec_config)]
