"""Agent side of file transfers (see transfers.py): commands run in the session's container as its
own user, in its home. They need only a POSIX shell, cat and stat, which every desktop image has."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from apps.agents.labels import SESSION_LABEL
from apps.agents.runtime.docker import (
    DockerError,
    container_exec,
    container_exec_feeding,
    container_exec_reading,
    container_find,
)
from apps.sessions.transfers import KEPT_SECONDS, cache_key

PIECE_BYTES = 1024 * 1024
MAX_ENTRIES = 2000

# $1 is the name; a name in use becomes "name (1).ext", "name (2).ext"...; prints the name used.
PUT_SCRIPT = r"""
dir="$HOME/Uploads"; mkdir -p "$dir" || exit 3
name="$1"; stem="${1%.*}"; ext="${1##*.}"; n=1
while [ -e "$dir/$name" ] || [ -L "$dir/$name" ]; do
  if [ "$stem" = "$1" ] || [ -z "$stem" ]; then name="$1 ($n)"; else name="$stem ($n).$ext"; fi
  n=$((n + 1))
done
cat > "$dir/$name" && printf '%s' "$name"
"""
# $1 is a path relative to the home ('' for the home); prints "d|f <TAB> size <TAB> name" records, NUL-ended.
LIST_SCRIPT = r"""
cd -- "$HOME/$1" 2>/dev/null || { echo "No folder '$1' in your home." >&2; exit 4; }
for entry in * .*; do
  case "$entry" in .|..) continue;; esac
  [ -e "$entry" ] || [ -L "$entry" ] || continue
  if [ -d "$entry" ]; then kind=d; size=0; else kind=f; size=$(stat -c %s -- "$entry" 2>/dev/null || echo 0); fi
  printf '%s\t%s\t%s\0' "$kind" "$size" "$entry"
done
"""
GET_SCRIPT = r"""
cd -- "$HOME" || exit 3
[ -f "$1" ] || { echo "No file '$1' in your home." >&2; exit 4; }
[ -r "$1" ] || { echo "'$1' cannot be read." >&2; exit 4; }
size=$(stat -c %s -- "$1") || exit 3
[ "$size" -le "$2" ] || { echo "'$1' is larger than the $(($2 / 1048576)) MB a download may be." >&2; exit 4; }
exec cat -- "$1"
"""


def _container_id(session_id: str) -> str:
    container = container_find(settings.DOCKER_URL, label=SESSION_LABEL, value=session_id)
    if container is None or container.status != "running":
        raise DockerError("The session's container is not running.", retryable=False)
    return container.id


def file_put(session_id: str, transfer_id: str, name: str) -> None:
    data = cache.get(cache_key(transfer_id, "in"))
    cache.delete(cache_key(transfer_id, "in"))
    try:
        if data is None:
            raise DockerError("The upload expired before the agent took it; try again.", retryable=False)
        pieces = (data[start : start + PIECE_BYTES] for start in range(0, len(data), PIECE_BYTES))
        cmd = ["sh", "-c", PUT_SCRIPT, "sh", name]
        exit_code, output = container_exec_feeding(
            settings.DOCKER_URL, _container_id(session_id), cmd=cmd, user="", chunks=pieces
        )
        if exit_code != 0:
            raise DockerError(f"Writing '{name}' into ~/Uploads failed: {output.strip()[-300:]}", retryable=False)
        answer = {"name": output.strip()}
    except DockerError as error:
        answer = {"error": str(error)}
    cache.set(cache_key(transfer_id, "answer"), answer, KEPT_SECONDS)


def files_list(session_id: str, transfer_id: str, path: str) -> None:
    try:
        exit_code, output = container_exec(
            settings.DOCKER_URL, _container_id(session_id), cmd=["sh", "-c", LIST_SCRIPT, "sh", path]
        )
        if exit_code != 0:
            raise DockerError(output.strip()[-300:] or f"Listing '{path}' failed.", retryable=False)
        entries = []
        for record in output.split("\0")[:MAX_ENTRIES]:
            kind, _, rest = record.partition("\t")
            size, _, name = rest.partition("\t")
            if kind in ("d", "f") and name:
                entries.append({"name": name, "is_directory": kind == "d", "size": int(size) if size.isdigit() else 0})
        answer = {"entries": entries}
    except DockerError as error:
        answer = {"error": str(error)}
    cache.set(cache_key(transfer_id, "answer"), answer, KEPT_SECONDS)


def file_get(session_id: str, transfer_id: str, path: str, limit: int) -> None:
    """Stream the file into the cache in pieces; the end marker says how many, or what went wrong."""
    pieces, sent, error = 0, 0, ""
    try:
        stdout, outcome = container_exec_reading(
            settings.DOCKER_URL,
            _container_id(session_id),
            cmd=["sh", "-c", GET_SCRIPT, "sh", path, str(limit)],
            user="",
        )
        buffer = b""
        for data in stdout:
            buffer += data
            sent += len(data)
            if sent > limit:  # it grew while it was read
                error = f"'{path}' grew past the {limit // 2**20} MB a download may be."
                break
            while len(buffer) >= PIECE_BYTES:
                cache.set(cache_key(transfer_id, str(pieces)), buffer[:PIECE_BYTES], KEPT_SECONDS)
                buffer, pieces = buffer[PIECE_BYTES:], pieces + 1
        if not error:
            exit_code, stderr = outcome()
            if exit_code != 0:
                error = stderr.strip()[-300:] or f"Reading '{path}' failed."
            elif buffer or pieces == 0:
                cache.set(cache_key(transfer_id, str(pieces)), buffer, KEPT_SECONDS)
                pieces += 1
    except DockerError as failure:
        error = str(failure)
    cache.set(cache_key(transfer_id, "end"), {"pieces": pieces, "error": error}, KEPT_SECONDS)
