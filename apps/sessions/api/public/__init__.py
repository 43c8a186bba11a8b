"""Kasm-compatible Developer API: `POST /api/public/<call>`, one module per area, each call
registered with `dispatch.call` (see dispatch.py for authentication and errors)."""

from apps.sessions.api.public import groups, images, sessions, users, zones  # noqa: F401 (they register their calls)
from apps.sessions.api.public.dispatch import public_api

__all__ = ["public_api"]
