"""An agent worker's own identity: its name and the credential it enrolled with.

The credential is made on the agent host the first time its worker starts and kept in a file
only root (or the worker's user) can read. Its first check-in carries it with the manager token;
from then on the manager knows the agent by it, and the manager token alone proves nothing."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from apps.common.hashing import generate_secret


def agent_identity() -> dict:
    """What an agent's reports to the manager carry, so the manager knows which agent sent them."""
    return {"agent": settings.AGENT_NAME, "credential": settings.AGENT_CREDENTIAL}


def agent_credential_load_or_create(path: Path) -> str:
    """The credential in `path`, made (mode 600) when the file does not exist yet."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    credential = generate_secret(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(credential + "\n")
    return credential
