"""Security review flags of a workspace definition, as the registry format describes them.

A flag is raised for every `run_config` / `exec_config` property that grants more than a plain
sandboxed container; the console links each flag identifier to its explanation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from apps.common.volumes import BIND_KIND, source_kind
from apps.images.limits import RESOURCE_LIMITS, limit_restricts

FLAG_USER = "user"
FLAG_PRIVILEGED = "privileged"
FLAG_PROPERTY = "flag_property"

# Presentation and harmless settings: never flagged.
IGNORED_RUN_PROPERTIES = frozenset(
    {"hostname", "entrypoint", "environment", "shm_size", "name", "labels", "working_dir", "command", "tty"}
)
# Settings that only restrict the container further.
SAFE_RUN_PROPERTIES = RESOURCE_LIMITS | {"read_only"}
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
    """`read_only` restricts only when true; a limit only when positive (see images/limits.py)."""
    return value is True if name == "read_only" else limit_restricts(value)


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


def volume_mapping_flags(volume_mappings: list) -> list[SecurityFlag]:
    """A mapping of a host path is flagged as run_config's `volumes` would be: it reaches the host."""
    return [
        SecurityFlag(mapping["target"], FLAG_PROPERTY, "volume_mappings")
        for mapping in volume_mappings
        if source_kind(mapping["source"]) == BIND_KIND
    ]


def workspace_flags(*, run_config: dict, exec_config: dict, volume_mappings: list = ()) -> list[dict]:
    flags = run_config_flags(run_config) + exec_config_flags(exec_config) + volume_mapping_flags(volume_mappings)
    return [flag.as_dict() for flag in flags]
