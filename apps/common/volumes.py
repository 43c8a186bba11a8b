"""Persistent profiles and volume mappings: where a session's data lives outside its container.

A source is a named Docker volume (`kasm-profile-{user_id}-{image_id}`) or an absolute host path
on the agent, which must lie under one of the roots the agent's admin allowed (VOLUME_HOST_ROOTS):
the manager checks it when a workspace is saved, the agent again before it mounts anything.
Templates may name `{username}`, `{user_id}` and `{image_id}`. A profile's template must name
`{user_id}`: two usernames can differ only in characters a path cannot hold, user ids cannot.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass

from apps.common.errors import InvalidInput

PLACEHOLDERS = ("username", "user_id", "image_id")
VOLUME_NAME = re.compile(r"\A[a-zA-Z0-9][a-zA-Z0-9_.-]*\Z")
DEFAULT_PROFILE_TEMPLATE = "kasm-profile-{user_id}-{image_id}"
VOLUME_KIND, BIND_KIND = "volume", "bind"


@dataclass(frozen=True)
class Mount:
    """One mount of a session's container, its source expanded for one user."""

    kind: str  # VOLUME_KIND or BIND_KIND
    source: str
    target: str
    read_only: bool = False

    def as_spec(self) -> dict:
        return {"kind": self.kind, "source": self.source, "target": self.target, "read_only": self.read_only}

    @classmethod
    def from_spec(cls, spec: dict) -> Mount:
        return cls(spec["kind"], spec["source"], spec["target"], bool(spec.get("read_only")))


def source_kind(source: str) -> str:
    return BIND_KIND if source.startswith("/") else VOLUME_KIND


def template_problems(template: str, *, per_user: bool, host_roots: Iterable[str]) -> list[str]:
    """What is wrong with a source template; empty when it is fine."""
    problems = []
    leftover = template
    for name in PLACEHOLDERS:
        leftover = leftover.replace("{" + name + "}", "")
    if "{" in leftover or "}" in leftover:
        problems.append(f"Only these placeholders are known: {', '.join('{' + n + '}' for n in PLACEHOLDERS)}.")
    if per_user and "{user_id}" not in template:
        problems.append("A profile must name {user_id}, so that no two users ever share one.")
    sample = template_expand(template, username="user", user_id="0" * 32, image_id="0" * 32)
    problems.extend(source_problems(sample, host_roots=host_roots) if not problems else [])
    return problems


def source_problems(source: str, *, host_roots: Iterable[str]) -> list[str]:
    """What is wrong with an expanded source; empty when it may be mounted."""
    if source_kind(source) == VOLUME_KIND:
        if not VOLUME_NAME.match(source) or len(source) > 255:
            return [f"'{source}' is neither an absolute host path nor a Docker volume name (letters, digits, _ . -)."]
        return []
    if not path_is_plain(source):
        return [f"'{source}' is not a plain absolute path (no '..', '.', '//' or trailing '/')."]
    roots = [root for root in host_roots if root]
    if not any(path_is_under(source, root) for root in roots):
        allowed = ", ".join(roots) if roots else "none are allowed (set VOLUME_HOST_ROOTS on the agent)"
        return [f"The host path '{source}' is not under an allowed root: {allowed}."]
    return []


def target_problems(target: str) -> list[str]:
    if not path_is_plain(target) or target == "/":
        return [f"The target '{target}' must be a plain absolute path in the container, not '/'."]
    return []


def path_is_plain(path: str) -> bool:
    return path.startswith("/") and posixpath.normpath(path) == path and "\0" not in path


def path_is_under(path: str, root: str) -> bool:
    """`path` is `root` or inside it; both plain absolute paths."""
    return path_is_plain(root) and path != root and posixpath.commonpath([path, root]) == root


def template_expand(template: str, *, username: str, user_id: str, image_id: str) -> str:
    """The template with its placeholders replaced; a username keeps only letters, digits, _ . and
    - (anything else becomes _), and never stands as '.' or '..'."""
    safe_username = re.sub(r"[^A-Za-z0-9_.-]", "_", username)
    if set(safe_username) <= {"."}:
        safe_username = safe_username.replace(".", "_") or "_"
    values = {"username": safe_username, "user_id": user_id, "image_id": image_id}
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def mapping_problems(mapping: object, *, host_roots: Iterable[str]) -> list[str]:
    """What is wrong with one volume mapping of a workspace or a group."""
    if not isinstance(mapping, dict) or not isinstance(mapping.get("source"), str):
        return ['Each mapping is {"source": "...", "target": "/...", "read_only": true|false}.']
    unknown = set(mapping) - {"source", "target", "read_only"}
    if unknown:
        return [f"Unknown keys in a volume mapping: {', '.join(sorted(unknown))}."]
    target, read_only = mapping.get("target"), mapping.get("read_only", False)
    if not isinstance(target, str):
        return ["A volume mapping needs a target path in the container."]
    if not isinstance(read_only, bool):
        return ["read_only is true or false."]
    return [
        *template_problems(mapping["source"], per_user=False, host_roots=host_roots),
        *target_problems(target),
    ]


def mappings_expand(mappings: Iterable[dict], *, username: str, user_id: str, image_id: str) -> list[Mount]:
    mounts = []
    for mapping in mappings:
        source = template_expand(mapping["source"], username=username, user_id=user_id, image_id=image_id)
        mounts.append(Mount(source_kind(source), source, mapping["target"], bool(mapping.get("read_only"))))
    return mounts


def mappings_checked(mappings: object, *, host_roots: Iterable[str]) -> list[dict]:
    """`mappings` when every one is fine, else InvalidInput naming each problem."""
    if mappings in (None, ""):
        return []
    if not isinstance(mappings, list):
        raise InvalidInput('Volume mappings are a JSON list: [{"source": "...", "target": "/...", "read_only": true}].')
    problems = [
        f"Mapping {number}: {problem}"
        for number, mapping in enumerate(mappings, start=1)
        for problem in mapping_problems(mapping, host_roots=host_roots)
    ]
    if problems:
        raise InvalidInput(" ".join(problems))
    return [{"read_only": False, **mapping} for mapping in mappings]
