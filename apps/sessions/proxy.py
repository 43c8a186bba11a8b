"""HTTP half of the session proxy: the workspace's web client (noVNC) fetched from the container."""

from __future__ import annotations

import base64
import ssl
import urllib.error
import urllib.request
from urllib.parse import quote

from apps.images.choices import StreamProtocol
from apps.sessions.models import Session

FORWARDED_HEADERS = ("Content-Type", "Cache-Control", "Last-Modified", "ETag")
MAX_BODY = 50 * 1024**2


def kasmvnc_authorization(session: Session) -> str:
    """KasmVNC workspaces ask for basic auth as kasm_user with the session's secret."""
    return "Basic " + base64.b64encode(f"kasm_user:{session.vnc_password}".encode()).decode()


def workspace_fetch(session: Session, path: str, query: str) -> tuple[int, dict, bytes]:
    """GET `path` from the session's container; returns (status, headers to forward, body)."""
    kasmvnc = session.image.stream_protocol == StreamProtocol.KASMVNC
    # Quoted again: a decoded `%0d%0a`, `?` or `#` in the path must stay part of the path.
    url = f"{'https' if kasmvnc else 'http'}://{session.agent.address}:{session.host_port}/{quote(path)}"
    request = urllib.request.Request(url + (f"?{query}" if query else ""))  # noqa: S310  (agent address)
    context = None
    if kasmvnc:
        request.add_header("Authorization", kasmvnc_authorization(session))
        context = ssl._create_unverified_context()  # noqa: S323  (the container's self-signed certificate)
    try:
        with urllib.request.urlopen(request, timeout=15, context=context) as response:  # noqa: S310
            return response.status, _forwarded(response.headers), response.read(MAX_BODY)
    except urllib.error.HTTPError as error:
        return error.code, _forwarded(error.headers), error.read(MAX_BODY)
    except OSError as error:  # refused, reset, timed out: the container is not answering
        message = f"The workspace did not answer ({error}); try again in a moment.".encode()
        return 502, {"Content-Type": "text/plain; charset=utf-8"}, message


def _forwarded(headers) -> dict:
    return {name: headers[name] for name in FORWARDED_HEADERS if headers.get(name)}
