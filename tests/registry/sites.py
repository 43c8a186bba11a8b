"""Registry sites for tests, served over HTTP on 127.0.0.1: the real ones (fixtures/real-registries),
generated ones, and misbehaving ones (HTML, huge, redirect loop)."""

from __future__ import annotations

import contextlib
import functools
import json
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# Three real third-party registries exactly as their sites serve them (commits in SOURCES.txt),
# kept in the repository so the suite runs from any checkout.
REAL_REGISTRIES = Path(__file__).resolve().parent / "fixtures" / "real-registries"
REAL_REGISTRY_COUNTS = {"Bortus-AI__kasm-registry": 3, "KodeStar__kasm-registry": 2, "doctorfree__kasm-registry": 17}


class RegistrySiteHandler(SimpleHTTPRequestHandler):
    """Static files, plus /redirect-loop/..., /huge/... and /html/... for the failure cases, and a
    redirect wherever a file holds `redirect:<url>`."""

    def do_GET(self):
        if self.path.startswith("/redirect-loop/"):
            self.send_response(302)
            self.send_header("Location", self.path + "x/")
            self.end_headers()
        elif self.path.startswith("/huge/") and self.path.endswith("list.json"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()  # no Content-Length: the client must stop reading by itself
            with contextlib.suppress(OSError):
                self.wfile.write(b'{"workspaces": [' + b'{"name": "x", "friendly_name": "y"},' * 400_000)
        elif self.path.startswith("/html/"):
            body = b"<!doctype html><html><body>Welcome to my blog</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self._redirect_target():
            self.send_response(302)
            self.send_header("Location", self._redirect_target())
            self.end_headers()
        else:
            super().do_GET()

    def _redirect_target(self) -> str:
        """A file holding `redirect:<url>` answers with a redirect there (an icon pointing elsewhere)."""
        path = Path(self.translate_path(self.path))
        if path.is_file() and path.read_bytes().startswith(b"redirect:"):
            return path.read_text().removeprefix("redirect:")
        return ""

    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def serving(directory: Path):
    """Serve `directory` on a free loopback port; yields the base URL (ending in '/')."""
    handler = functools.partial(RegistrySiteHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def copy_real_registries(destination: Path) -> Path:
    shutil.copytree(REAL_REGISTRIES, destination, dirs_exist_ok=True)
    return destination


def write_registry(
    directory: Path, workspaces: list, *, name: str = "Test registry", icons: dict | None = None
) -> Path:
    """A registry site with the given (possibly malformed) workspace entries."""
    (directory / "1.0" / "icons").mkdir(parents=True, exist_ok=True)
    (directory / "versions.txt").write_text("1.0\n")
    listing = {"name": name, "description": "For tests", "modified": 1700000000000, "workspaces": workspaces}
    (directory / "1.0" / "list.json").write_text(json.dumps(listing))
    for file_name, content in (icons or {}).items():
        (directory / "1.0" / "icons" / file_name).write_bytes(content)
    return directory


def workspace_entry(name: str, **fields) -> dict:
    entry = {
        "name": name,
        "friendly_name": name.split("/")[-1].split(":")[0].title(),
        "description": f"{name} for tests",
        "categories": ["Testing"],
        "architecture": ["amd64"],
        "cores": 1,
        "memory": 512,
        "uncompressed_size_mb": 50,
        "sha": "a" * 40,
    }
    return {**entry, **fields}
