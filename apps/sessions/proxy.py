"""HTTP half of the session proxy: the web client a KasmVNC-style workspace serves itself.

A container's user controls every byte it serves, so nothing it serves runs as active content on
the platform's origin. Our pages draw every desktop with our own copy of noVNC and proxy only the
WebSocket; noVNC-protocol workspaces get no HTTP proxy at all. A KasmVNC workspace's own client is
still reachable for clients that want it, but answered with `Content-Security-Policy: sandbox
allow-scripts allow-forms` (no allow-same-origin): its scripts run in an opaque origin, without
our cookies, CSRF token or same-origin API access.
"""

from __future__ import annotations

import base64
import re
import urllib.error
import urllib.request
from urllib.parse import quote

from apps.images.choices import StreamProtocol
from apps.sessions.models import Session
from apps.sessions.workspace_tls import workspace_tls_context

FORWARDED_HEADERS = ("Content-Type", "Cache-Control", "Last-Modified", "ETag")
MAX_BODY = 50 * 1024**2
SANDBOX_HEADERS = {
    "Content-Security-Policy": "sandbox allow-scripts allow-forms",
    "X-Content-Type-Options": "nosniff",
}
# What a viewer may fetch of a workspace's own client: its static files, not its APIs (KasmVNC
# serves e.g. api/get_screenshot and file downloads with the owner's credential).
VIEWER_STATIC_PATH = re.compile(
    r"(?!api/|downloads?/)([\w.-]+/)*[\w.-]+\.(html|js|css|png|jpe?g|gif|svg|ico|woff2?|ttf|map)\Z"
)


def workspace_serves_http(session: Session) -> bool:
    """Only KasmVNC-style workspaces have a client of their own worth proxying."""
    return session.image.stream_protocol == StreamProtocol.KASMVNC


def viewer_may_fetch(path: str) -> bool:
    return ".." not in path.split("/") and VIEWER_STATIC_PATH.match(path) is not None


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
        context = workspace_tls_context()
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
