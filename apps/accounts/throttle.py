"""Failed sign-ins (passwords, API keys) counted per account and per address; past the limit
within the window, that account or address is refused until the window has passed.

Counters live in the cache (Redis in production, so every process shares them). A success clears
the account's counter, never the address's."""

from __future__ import annotations

import hashlib
import math
import time

from django.core.cache import cache

from apps.common.errors import ApplicationError
from apps.common.runtime_settings import runtime_setting, runtime_settings


class TooManyFailures(ApplicationError):
    """Sign-ins are refused for a while; the message says for how long."""


def _key(kind: str, identity: str, value: str) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"throttle:{kind}:{identity}:{digest}"


def failures_check(kind: str, identities: dict[str, str]) -> None:
    """Raise TooManyFailures when any identity (e.g. {"user": name, "address": ip}) is over its limit."""
    window, per_account, per_address = runtime_settings(
        "LOGIN_FAILURE_WINDOW_SECONDS", "LOGIN_FAILURE_LIMIT", "LOGIN_FAILURE_LIMIT_PER_ADDRESS"
    )
    now = time.time()
    for identity, value in identities.items():
        record = cache.get(_key(kind, identity, value)) if value else None
        limit = per_address if identity == "address" else per_account
        if record and record["count"] >= limit and now - record["since"] < window:
            minutes = math.ceil((record["since"] + window - now) / 60)
            raise TooManyFailures(
                f"Too many failed attempts from this {'address' if identity == 'address' else 'account'}; "
                f"try again in {minutes} minute{'s' if minutes != 1 else ''}."
            )


def failure_record(kind: str, identities: dict[str, str]) -> None:
    window = runtime_setting("LOGIN_FAILURE_WINDOW_SECONDS")
    now = time.time()
    for identity, value in identities.items():
        if not value:
            continue
        key = _key(kind, identity, value)
        record = cache.get(key)
        if not record or now - record["since"] >= window:
            record = {"count": 0, "since": now}
        record["count"] += 1
        cache.set(key, record, timeout=window)


def failures_clear(kind: str, identities: dict[str, str]) -> None:
    cache.delete_many([_key(kind, identity, value) for identity, value in identities.items() if value])


def client_address(meta: dict) -> str:
    """The client's address as the server saw it (behind a proxy, the proxy's: see the README)."""
    return meta.get("REMOTE_ADDR", "")
