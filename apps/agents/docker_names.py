"""Docker names: image references read apart, and the names the platform gives containers.

Docker allows only `[a-zA-Z0-9][a-zA-Z0-9_.-]` in a container name, while a username may hold
`@ + '`, letters of other alphabets and more: a name is built from ids, with a readable slug of
the user only as decoration. The user's own text goes in labels, which take any string."""

from __future__ import annotations

import re
import unicodedata

SLUG_MAX_LENGTH = 32
_NOT_ALLOWED = re.compile(r"[^a-zA-Z0-9_.-]+")


def docker_name_slug(text: str) -> str:
    """`text` as a lowercase slug Docker accepts inside a name: accents dropped (Zoë -> zoe), every
    other run of characters Docker refuses made one `-`; "user" when nothing usable is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NOT_ALLOWED.sub("-", ascii_text.lower()).strip("-._")[:SLUG_MAX_LENGTH].strip("-._")
    return slug or "user"


def session_container_name(*, username: str, session_id: str) -> str:
    """`kasm-<user slug>-<session hex>`: unique through the session id, readable in `docker ps`."""
    return f"kasm-{docker_name_slug(username)}-{session_id}"


def reference_split(reference: str) -> tuple[str, str]:
    """(repository, tag) of an image reference; the tag is "latest" when none is given. A digest
    reference (`repo@sha256:...`) gives the digest as its tag. A registry port (`host:5000/x`) is
    part of the repository."""
    if "@" in reference:
        repository, _, digest = reference.partition("@")
        return repository, digest
    repository, _, tag = reference.rpartition(":")
    if not repository or "/" in tag:  # no tag, or the colon was a registry's port
        return reference, "latest"
    return repository, tag
