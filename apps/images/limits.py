"""Resource limits a workspace's run_config may set. Docker reads 0 and -1 as "unlimited", so a
limit only restricts when it is a positive number or size ("2g"); the registry's review flags a
limit that does not, and the launcher never applies one."""

from __future__ import annotations

RESOURCE_LIMITS = frozenset(
    {"mem_limit", "memswap_limit", "nano_cpus", "cpu_period", "cpu_quota", "cpu_shares", "pids_limit"}
)


def limit_restricts(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return False
    try:
        return float(str(value).rstrip("bkmgBKMG")) > 0
    except ValueError:
        return False
