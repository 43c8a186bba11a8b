"""An agent worker's own identity: its name and the credential it enrolled with.

The credential is made on the agent host the first time its worker starts and kept in a file
only root (or the worker's user) can read. Its first check-in carries it with the manager token;
from then on the manager knows the agent by it, and the manager token alone proves nothing."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from django.conf import settings

from apps.common.hashing import generate_secret

logger = logging.getLogger(__name__)


def agent_identity() -> dict:
    """What an agent's reports to the manager carry, so the manager knows which agent sent them."""
    return {"agent": settings.AGENT_NAME, "credential": settings.AGENT_CREDENTIAL}


def manager_token_for_checkin() -> str:
    """The token a check-in carries: MANAGER_TOKEN_FILE's content when set, read each time (so a
    rotation written there applies without a restart), else MANAGER_TOKEN."""
    if settings.MANAGER_TOKEN_FILE:
        try:
            return Path(settings.MANAGER_TOKEN_FILE).read_text().strip()
        except OSError as error:
            logger.error("Manager token file unreadable (%s); using the token the worker started with", error)
    return settings.MANAGER_TOKEN


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
