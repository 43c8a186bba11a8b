"""Helpers for tests that run workspace containers on the real engine, published on 127.0.0.1 only."""

import contextlib
import time
import urllib.request

import docker


@contextlib.contextmanager
def running_container(docker_url: str, image: str, *, environment: dict | None = None):
    """Run `image` with 6901 published on a free loopback port; yield (container, port); remove it."""
    client = docker.DockerClient(base_url=docker_url)
    container = client.containers.run(
        image, detach=True, environment=environment or {}, ports={"6901/tcp": ("127.0.0.1", None)}
    )
    try:
        container.reload()
        port = int(container.ports["6901/tcp"][0]["HostPort"])
        yield container, port
    finally:
        container.remove(force=True)


def wait_for_http(url: str, timeout: float = 30) -> tuple[int, bytes]:
    """GET `url` until it answers; return (status, body)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  (loopback test URL)
                return response.status, response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
