"""Workspace icons are raster images and nothing else: a registry's author (or an admin's upload)
controls every byte, and an SVG or HTML file served from our origin would run its scripts there.
The type is read from the file's first bytes, never from its name or a Content-Type."""

from __future__ import annotations

# (magic bytes at offset 0, extension); WebP is RIFF....WEBP, checked apart
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)
ACCEPTED = "PNG, JPEG, GIF or WebP"


def icon_extension(body: bytes) -> str | None:
    """The extension of the raster image `body` is, or None when it is not one we accept."""
    for magic, extension in _SIGNATURES:
        if body.startswith(magic):
            return extension
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "webp"
    return None
