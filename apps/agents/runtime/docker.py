"""The only module that talks to Docker. Plain values in and out; one error type, `DockerError`."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import requests.exceptions

MANAGED_LABEL = "org.kasm-local.managed"


class DockerError(Exception):
    """A Docker call failed. `retryable` says whether trying again later can help."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class ImageInfo:
    reference: str
    id: str
    labels: dict[str, str]
    size: int


@functools.cache
def _client(docker_url: str) -> docker.DockerClient:
    return docker.DockerClient(base_url=docker_url, timeout=120)


def _translate(error: Exception, action: str) -> DockerError:
    if isinstance(error, docker.errors.NotFound):
        return DockerError(f"{action}: not found ({error.explanation})", retryable=False)
    if isinstance(error, docker.errors.APIError):
        retryable = error.status_code is None or error.status_code >= 500
        return DockerError(f"{action}: {error.explanation or error}", retryable=retryable)
    if isinstance(error, (requests.exceptions.ConnectionError, docker.errors.DockerException)):
        return DockerError(f"{action}: Docker engine not reachable ({error}); is dockerd running?", retryable=True)
    return DockerError(f"{action}: {error}", retryable=False)


def _call(action: str, function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        raise _translate(error, action) from error


def engine_ping(docker_url: str) -> None:
    """Raise DockerError unless the engine at `docker_url` answers."""
    _call(f"ping Docker at {docker_url}", lambda: _client(docker_url).ping())


def image_inspect(docker_url: str, reference: str) -> ImageInfo | None:
    """The local image `reference`, or None when the engine does not have it."""
    try:
        image = _client(docker_url).images.get(reference)
    except docker.errors.ImageNotFound:
        return None
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        raise _translate(error, f"inspect image {reference}") from error
    return ImageInfo(reference=reference, id=image.id, labels=image.labels or {}, size=image.attrs.get("Size", 0))


def image_build(docker_url: str, *, context_dir: Path, tag: str, labels: dict[str, str]) -> ImageInfo:
    """Build the Dockerfile in `context_dir` as `tag`, with `labels` added."""
    _call(
        f"build image {tag}",
        _client(docker_url).images.build,
        path=str(context_dir),
        tag=tag,
        labels=labels,
        rm=True,
        forcerm=True,
    )
    return image_inspect(docker_url, tag)


def engine_version(docker_url: str) -> str:
    return _call(f"ask Docker at {docker_url} its version", lambda: _client(docker_url).version()["Version"])
