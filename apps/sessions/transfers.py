"""Files in and out of a running session, with nothing special in the image.

The manager never reaches an agent's Docker engine, so a transfer crosses the shared cache (Redis
in production): an upload's bytes wait there for the agent's `sessions.file_put`, which writes
them into ~/Uploads; a download's chunks wait there for the view that streams them to the
browser. On the agent (apps/sessions/container_files.py) every read and write is a command run
as the container's own user, so a transfer can reach only what that user can.
"""

from __future__ import annotations

import posixpath
import time
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.cache import cache

from apps.accounts.selectors import user_policy
from apps.common.errors import ApplicationError
from apps.common.queues import agent_queue_name, task_enqueue
from apps.common.runtime_settings import runtime_setting
from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session

KEPT_SECONDS = 600  # how long a transfer's pieces stay in the cache unclaimed
ANSWER_SECONDS = 60  # how long a request waits for the agent before it gives up
POLL_SECONDS = 0.05


class TransferRefused(ApplicationError):
    """The transfer cannot be done: a bad name or path, a session not running, the agent's refusal."""


class TransferForbidden(TransferRefused):
    """The owner's groups do not allow this direction."""


@dataclass(frozen=True)
class FileEntry:
    name: str
    is_directory: bool
    size: int


def cache_key(transfer_id: str, part: str) -> str:
    return f"sessions:files:{transfer_id}:{part}"


def transfer_limit_bytes() -> int:
    return runtime_setting("SESSION_FILE_TRANSFER_MAX_MB") * 1024 * 1024


def upload_name_checked(name: str) -> str:
    """The last part of a browser's file name, without control characters; never '.' or '..'."""
    name = "".join(char for char in name.replace("\\", "/").split("/")[-1] if unicodedata.category(char)[0] != "C")
    name = name.strip()[:200]
    if name in ("", ".", ".."):
        raise TransferRefused("A file needs a name.")
    return name


def home_path_checked(path: str) -> str:
    """A path inside the home as the browser gives it ('Downloads/a.pdf'), normalised; '' is the home."""
    path = path.strip().strip("/")
    if "\0" in path:
        raise TransferRefused("A path holds no NUL characters.")
    normal = posixpath.normpath(path) if path else ""
    if normal in (".", ""):
        return ""
    if normal.startswith("../") or normal == "..":
        raise TransferRefused(f"'{path}' is outside your home.")
    return normal


def _session_checked(session: Session, *, direction: str) -> None:
    policy = user_policy(session.owner)
    allowed = policy.allow_uploads if direction == "upload" else policy.allow_downloads
    if not allowed:
        raise TransferForbidden(f"Your groups do not allow {direction}s; ask an admin.")
    if session.status != SessionStatus.RUNNING or session.agent is None:
        raise TransferRefused(f"The session is {session.get_status_display().lower()}; files move only while it runs.")


def session_upload(*, session: Session, name: str, chunks: Iterator[bytes], size: int) -> str:
    """Put one file into the session's ~/Uploads; the name it got there (a name in use gets ' (1)')."""
    _session_checked(session, direction="upload")
    name = upload_name_checked(name)
    limit = transfer_limit_bytes()
    if size > limit:
        raise TransferRefused(f"'{name}' is {size // 2**20} MB; uploads are limited to {limit // 2**20} MB.")
    transfer_id = uuid.uuid4().hex
    cache.set(cache_key(transfer_id, "in"), b"".join(chunks), KEPT_SECONDS)
    task_enqueue("sessions.file_put", session.hex_id, transfer_id, name, queue=agent_queue_name(session.agent.hostname))
    return _answer(transfer_id)["name"]


def session_files_list(*, session: Session, path: str) -> list[FileEntry]:
    """The entries of a directory of the session's home, directories first."""
    _session_checked(session, direction="download")
    transfer_id = uuid.uuid4().hex
    task_enqueue(
        "sessions.files_list",
        session.hex_id,
        transfer_id,
        home_path_checked(path),
        queue=agent_queue_name(session.agent.hostname),
    )
    entries = [FileEntry(**entry) for entry in _answer(transfer_id)["entries"]]
    return sorted(entries, key=lambda entry: (not entry.is_directory, entry.name.lower()))


def session_download(*, session: Session, path: str) -> Iterator[bytes]:
    """The file's bytes as the agent streams them. Returns once the first piece (or the refusal)
    is in, so that a missing file is an error, not an empty download."""
    _session_checked(session, direction="download")
    path = home_path_checked(path)
    if not path:
        raise TransferRefused("Choose a file to download.")
    transfer_id = uuid.uuid4().hex
    task_enqueue(
        "sessions.file_get",
        session.hex_id,
        transfer_id,
        path,
        transfer_limit_bytes(),
        queue=agent_queue_name(session.agent.hostname),
    )
    first = _next_piece(transfer_id, 0)
    return _pieces(transfer_id, first)


def _pieces(transfer_id: str, first: bytes | None) -> Iterator[bytes]:
    number, piece = 0, first
    while piece is not None:
        yield piece
        number += 1
        piece = _next_piece(transfer_id, number)


def _next_piece(transfer_id: str, number: int) -> bytes | None:
    """Piece `number`, or None after the last; an error the agent reported raises."""

    def piece_or_end():
        piece = _taken(cache_key(transfer_id, str(number)))
        if piece is not None:
            return piece, None
        end = cache.get(cache_key(transfer_id, "end"))
        return (None, end) if end is not None and number >= end["pieces"] else None

    piece, end = _awaited(piece_or_end)
    if end is not None and end.get("error"):
        raise TransferRefused(end["error"])
    return piece


def _answer(transfer_id: str) -> dict:
    try:
        answer = _awaited(lambda: _taken(cache_key(transfer_id, "answer")))
    except TransferRefused:
        cache.delete(cache_key(transfer_id, "in"))  # an upload the agent never took
        raise
    if answer.get("error"):
        raise TransferRefused(answer["error"])
    return answer


def _taken(key: str):
    """The cache's value at `key`, removed from it; None when there is none yet."""
    value = cache.get(key)
    if value is not None:
        cache.delete(key)
    return value


def _awaited(read):
    """What `read()` gives once it gives something other than None, polled for ANSWER_SECONDS."""
    deadline = time.monotonic() + ANSWER_SECONDS
    while time.monotonic() < deadline:
        value = read()
        if value is not None:
            return value
        time.sleep(POLL_SECONDS)
    raise TransferRefused("The session's agent did not answer in time; try again.")
