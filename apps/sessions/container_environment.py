"""The environment of a session's container, from the user's profile and the request.

Each entry reaches Docker as `NAME=value`, and images read them in shell scripts, so a name must be a
shell variable name, a value holds no NUL, LANG is a locale name, TZ a time-zone name (no `..`, no
leading `/`) and the start URL an http(s) URL without spaces. The platform's own entries (VNC_PW,
KASM_URL, KASM_USER) are added by the launch spec after these and always win."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from apps.common.errors import InvalidInput

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}\Z")
LOCALE_NAME = re.compile(r"[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*(\.[A-Za-z0-9-]{1,20})?(@[A-Za-z0-9]{1,20})?\Z")
TIMEZONE_NAME = re.compile(r"[A-Za-z0-9_+-]{1,32}(/[A-Za-z0-9_+-]{1,32}){0,3}\Z")
MAX_VALUE_LENGTH = 4096
MAX_ENTRIES = 100
MAX_URL_LENGTH = 2000
PLATFORM_VARIABLES = frozenset({"VNC_PW", "KASM_URL", "KASM_USER", "LANG", "TZ"})  # set by the platform


def container_environment(*, profile_environment: dict, requested: dict, language: str, timezone_name: str) -> dict:
    """The profile's entries, the request's over them, then LANG and TZ; refused with a message
    naming the entry when anything could not safely reach the container."""
    environment = {**environment_checked(profile_environment), **environment_checked(requested)}
    if not LOCALE_NAME.match(language):
        raise InvalidInput(f"The language '{language[:50]}' is not a locale name such as en_US.UTF-8 or de-DE.")
    if not TIMEZONE_NAME.match(timezone_name):
        raise InvalidInput(f"The time zone '{timezone_name[:50]}' is not a time-zone name such as Europe/Berlin.")
    return {**environment, "LANG": language, "TZ": timezone_name}


def environment_checked(environment: dict) -> dict:
    if len(environment) > MAX_ENTRIES:
        raise InvalidInput(f"At most {MAX_ENTRIES} environment variables may be given, not {len(environment)}.")
    for name, value in environment.items():
        if not isinstance(name, str) or not ENV_NAME.match(name):
            raise InvalidInput(
                f"'{str(name)[:50]}' is not an environment variable name: use letters, digits and _, "
                "not starting with a digit."
            )
        if not isinstance(value, str) or "\x00" in value or len(value) > MAX_VALUE_LENGTH:
            raise InvalidInput(
                f"The environment variable {name} must be text of at most {MAX_VALUE_LENGTH} characters, without NUL."
            )
    return dict(environment)


def profile_environment_checked(environment: dict) -> dict:
    """A user's own extra variables: as any environment, and none of the platform's own."""
    taken = sorted(PLATFORM_VARIABLES & set(environment))
    if taken:
        raise InvalidInput(f"{', '.join(taken)} are set by the platform; choose other names.")
    return environment_checked(environment)


def start_url_checked(url: str) -> str:
    """The URL a workspace opens at start (`kasm_url`): empty, or http(s) without spaces or controls."""
    if not url:
        return ""
    if not _is_web_url(url):
        raise InvalidInput(
            f"kasm_url must be an http(s) URL of at most {MAX_URL_LENGTH} characters without spaces, not '{url[:80]}'."
        )
    return url


def _is_web_url(url: str) -> bool:
    if len(url) > MAX_URL_LENGTH or re.search(r"[\s\x00-\x1f\x7f]", url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)
