"""Registry icons are raster images and nothing else, stored under a name we choose, fetched
without following redirects to other sites, and served so that no file runs script here."""

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.images.icons import icon_extension
from apps.registry.services import registry_add, registry_workspace_install
from tests.registry.sites import serving, workspace_entry, write_registry

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<!doctype html><script>fetch('/api/public/get_users')</script>"


@pytest.mark.parametrize(
    ("body", "extension"),
    [
        (PNG, "png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 16, "jpg"),
        (b"GIF89a" + b"\x00" * 8, "gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "webp"),
        (SVG, None),
        (HTML, None),
        (b"", None),
    ],
)
def test_the_icon_type_comes_from_the_bytes(body, extension):
    assert icon_extension(body) == extension


def install_with_icon(tmp_path, file_name: str, body: bytes):
    write_registry(tmp_path, [workspace_entry("ok/tool:1", image_src=file_name)], icons={file_name: body})
    with serving(tmp_path) as url:
        registry = registry_add(url=url)
        return registry_workspace_install(reviewed_digest=None, workspace=registry.workspaces.get())


@pytest.mark.parametrize(("file_name", "body"), [("tool.svg", SVG), ("tool.html", HTML), ("tool.png", SVG)])
def test_an_icon_that_is_not_a_raster_image_is_not_stored(tmp_path, settings, file_name, body):
    settings.MEDIA_ROOT = tmp_path / "media"
    image = install_with_icon(tmp_path / "site", file_name, body)
    assert not image.icon and image.icon_url.endswith(file_name)
    assert not list((tmp_path / "media").rglob("*.*"))


def test_a_png_named_like_a_page_is_stored_as_png(tmp_path, settings, client):
    settings.MEDIA_ROOT = tmp_path / "media"
    image = install_with_icon(tmp_path / "site", "tool.html", PNG)
    assert image.icon.name == f"image-icons/{image.hex_id}.png" and image.icon.read() == PNG
    response = client.get(f"/media/{image.icon.name}")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff" and response["Content-Security-Policy"] == "sandbox"


@contextlib.contextmanager
def internal_service():
    """A loopback server standing in for an internal URL; records whether anyone asked it."""
    asked = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://localhost:{server.server_address[1]}/metadata", asked
    finally:
        server.shutdown()
        server.server_close()


def test_an_icon_redirecting_to_another_host_is_not_followed(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    with internal_service() as (internal_url, asked):
        image = install_with_icon(tmp_path / "site", "tool.png", f"redirect:{internal_url}".encode())
    assert asked == [] and not image.icon
