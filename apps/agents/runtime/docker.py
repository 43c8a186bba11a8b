"""The only module that talks to Docker. Plain values in and out; one error type, `DockerError`."""

from __future__ import annotations

import functools
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import docker.utils.socket
import requests.exceptions

from apps.agents.docker_names import reference_split


class DockerError(Exception):
    """A Docker call failed. `retryable` says whether trying again later can help."""

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


class ContainerNameInUse(DockerError):
    """`container_run` was given the name of a container that exists already."""


@dataclass(frozen=True)
class ImageInfo:
    reference: str
    id: str
    labels: dict[str, str]
    size: int
    tags: tuple[str, ...] = ()
    repositories: tuple[str, ...] = ()  # from tags and digests, so untagged images keep their origin
    home: str = ""  # HOME in the image's environment
    user: str = ""  # the user its containers run as (USER), e.g. "1000" or "1000:1000"


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
    return _image_info(image, reference=reference)


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


@dataclass(frozen=True)
class EngineInfo:
    version: str
    data_root: str
    architecture: str
    cores: int
    memory: int


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    name: str
    status: str
    labels: dict[str, str]


def engine_info(docker_url: str) -> EngineInfo:
    info = _call(f"ask Docker at {docker_url} for its info", lambda: _client(docker_url).info())
    return EngineInfo(
        version=info.get("ServerVersion", ""),
        data_root=info.get("DockerRootDir", ""),
        architecture=info.get("Architecture", ""),
        cores=int(info.get("NCPU", 0)),
        memory=int(info.get("MemTotal", 0)),
    )


def containers_with_label(docker_url: str, label: str) -> list[ContainerInfo]:
    """Every container (running or not) that carries `label`."""
    containers = _call(
        "list containers", _client(docker_url).containers.list, all=True, filters={"label": label}, ignore_removed=True
    )
    return [ContainerInfo(id=c.id, name=c.name, status=c.status, labels=c.labels or {}) for c in containers]


def image_pull(docker_url: str, reference: str) -> None:
    repository, tag = reference_split(reference)
    _call(f"pull {reference}", _client(docker_url).images.pull, repository, tag=tag)


def image_remove(docker_url: str, image_id: str) -> None:
    """Remove an image unless a container uses it (never forced)."""
    _call(f"remove image {image_id}", _client(docker_url).images.remove, image_id, noprune=False)


def images_list(docker_url: str) -> list[ImageInfo]:
    """Every image of the engine, tagged or dangling."""
    images = _call("list images", _client(docker_url).images.list, all=False)
    return [_image_info(image, reference=image.tags[0] if image.tags else "") for image in images]


def _image_info(image, *, reference: str) -> ImageInfo:
    names = [*image.tags, *image.attrs.get("RepoDigests", [])]
    repositories = {reference_split(name)[0] for name in names}
    config = image.attrs.get("Config") or {}
    environment = dict(item.split("=", 1) for item in config.get("Env") or [] if "=" in item)
    return ImageInfo(
        reference=reference,
        id=image.id,
        labels=image.labels or {},
        size=image.attrs.get("Size", 0),
        tags=tuple(image.tags),
        repositories=tuple(sorted(repositories)),
        home=environment.get("HOME", ""),
        user=config.get("User") or "",
    )


@dataclass(frozen=True)
class NetworkInfo:
    name: str
    interface: str  # the host's bridge interface, for firewall rules
    subnet: str
    gateway: str


NO_INTER_CONTAINER = "com.docker.network.bridge.enable_icc"
BRIDGE_NAME = "com.docker.network.bridge.name"


def network_names(docker_url: str) -> list[str]:
    """The names of the engine's networks (bridge, host, the session network, any an admin made)."""
    return sorted(network.name for network in _call("list networks", _client(docker_url).networks.list))


def network_ensure(docker_url: str, *, name: str, interface: str, labels: dict[str, str]) -> NetworkInfo:
    """The bridge network `name` on which containers cannot reach each other (created if missing).
    A network of that name without that isolation is an error, never used."""
    client = _client(docker_url)
    try:
        network = client.networks.get(name)
    except docker.errors.NotFound:
        options = {NO_INTER_CONTAINER: "false", BRIDGE_NAME: interface}
        try:
            network = client.networks.create(name, driver="bridge", options=options, labels=labels)
        except docker.errors.APIError as error:
            if error.status_code != 409:  # 409: another worker created it a moment ago
                raise _translate(error, f"create network {name}") from error
        network = _call(f"inspect network {name}", client.networks.get, name)
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        raise _translate(error, f"inspect network {name}") from error
    return _network_info(network)


def _network_info(network) -> NetworkInfo:
    options = network.attrs.get("Options") or {}
    if options.get(NO_INTER_CONTAINER) != "false":
        raise DockerError(
            f"the network {network.name} lets containers reach each other; remove it (docker network rm "
            f"{network.name}) and the agent recreates it isolated",
            retryable=False,
        )
    ipam = (network.attrs["IPAM"]["Config"] or [{}])[0]
    return NetworkInfo(
        name=network.name,
        interface=options.get(BRIDGE_NAME, f"br-{network.id[:12]}"),
        subnet=ipam.get("Subnet", ""),
        gateway=ipam.get("Gateway", ""),
    )


def container_find(docker_url: str, *, label: str, value: str) -> ContainerInfo | None:
    """The container whose `label` equals `value` (running or not), if any."""
    matches = containers_with_label(docker_url, f"{label}={value}")
    return matches[0] if matches else None


def container_run(
    docker_url: str,
    *,
    image: str,
    name: str,
    labels: dict[str, str],
    environment: dict[str, str],
    publish_port: int,
    publish_address: str,
    gpus: int = 0,
    network: str = "",
    mounts: list[tuple[str, str, str, bool]] = (),
    options: dict | None = None,
) -> str:
    """Start a detached container with `publish_port` published on `publish_address` (a free host
    port), on `network` when given, with `mounts` (kind "volume" or "bind", source, target, read
    only); `options` are further `docker run` settings (limits, security). Returns its id."""
    kwargs = dict(options or {})
    if mounts:
        kwargs["mounts"] = [
            docker.types.Mount(target, source, type=kind, read_only=read_only)
            for kind, source, target, read_only in mounts
        ]
    if network:
        kwargs["network"] = network
    if gpus:
        kwargs["device_requests"] = [docker.types.DeviceRequest(count=gpus, capabilities=[["gpu"]])]
    try:
        container = _client(docker_url).containers.run(
            image,
            detach=True,
            name=name,
            labels=labels,
            environment=environment,
            ports={f"{publish_port}/tcp": (publish_address, None)},
            **kwargs,
        )
    except docker.errors.APIError as error:
        if error.status_code == 409 and "already in use" in str(error.explanation):
            raise ContainerNameInUse(f"a container named {name} exists", retryable=False) from error
        raise _translate(error, f"start a container of {image}") from error
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        raise _translate(error, f"start a container of {image}") from error
    return container.id


def container_published_port(docker_url: str, container_id: str, port: int) -> int | None:
    container = _call("inspect a container", _client(docker_url).containers.get, container_id)
    bindings = (container.attrs["NetworkSettings"]["Ports"] or {}).get(f"{port}/tcp") or []
    return int(bindings[0]["HostPort"]) if bindings else None


def container_remove(docker_url: str, container_id: str) -> None:
    """Remove the container, running or not; a container already gone is fine."""
    try:
        _client(docker_url).containers.get(container_id).remove(force=True)
    except docker.errors.NotFound:
        return
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        raise _translate(error, f"remove container {container_id[:12]}") from error


def volume_remove(docker_url: str, name: str) -> None:
    """Remove a named volume; one already gone is fine, one in use is an error that says so."""
    try:
        _client(docker_url).volumes.get(name).remove()
    except docker.errors.NotFound:
        return
    except docker.errors.APIError as error:
        if error.status_code == 409:
            message = f"volume {name} is in use by a container; end its session first"
            raise DockerError(message, retryable=False) from error
        raise _translate(error, f"remove volume {name}") from error
    except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
        raise _translate(error, f"remove volume {name}") from error


def container_stop(docker_url: str, container_id: str) -> None:
    """Stop the container, a paused one included (thawed first, so that it can take its signal)."""

    def stop():
        container = _client(docker_url).containers.get(container_id)
        if container.status == "paused":
            container.unpause()
        container.stop(timeout=10)

    _call("stop a container", stop)


def container_start(docker_url: str, container_id: str) -> None:
    _call("start a container", lambda: _client(docker_url).containers.get(container_id).start())


def container_pause(docker_url: str, container_id: str) -> None:
    _call("pause a container", lambda: _client(docker_url).containers.get(container_id).pause())


def container_unpause(docker_url: str, container_id: str) -> None:
    _call("unpause a container", lambda: _client(docker_url).containers.get(container_id).unpause())


def container_exec(
    docker_url: str,
    container_id: str,
    *,
    cmd: str | list[str],
    workdir: str = "",
    environment=None,
    user: str = "",
    privileged: bool = False,
) -> tuple[int, str]:
    """Run a command in the container; returns (exit code, combined output)."""
    container = _call("find a container", _client(docker_url).containers.get, container_id)
    result = _call(
        "run a command in a container",
        container.exec_run,
        cmd,
        workdir=workdir or None,
        environment=environment or None,
        user=user,
        privileged=privileged,
    )
    return result.exit_code, result.output.decode(errors="replace")


def container_exec_feeding(
    docker_url: str, container_id: str, *, cmd: list[str], user: str, chunks: Iterable[bytes]
) -> tuple[int, str]:
    """Run `cmd` with `chunks` as its standard input (a file's bytes, say); returns (exit code, output)."""
    api = _client(docker_url).api
    exec_id = _call("create a command in a container", api.exec_create, container_id, cmd, stdin=True, user=user)["Id"]
    sock = _call("start a command in a container", api.exec_start, exec_id, socket=True)
    raw = getattr(sock, "_sock", sock)
    try:
        for chunk in chunks:
            raw.sendall(chunk)
        raw.shutdown(socket.SHUT_WR)
        output = b"".join(
            data for _stream, data in docker.utils.socket.frames_iter(raw, tty=False) if isinstance(data, bytes)
        )
    except OSError as error:
        raise DockerError(f"the command's input or output broke off: {error}", retryable=False) from error
    finally:
        raw.close()
    return _exit_code(api, exec_id), output.decode(errors="replace")


def container_exec_reading(
    docker_url: str, container_id: str, *, cmd: list[str], user: str
) -> tuple[Iterator[bytes], Callable[[], tuple[int, str]]]:
    """Run `cmd` and stream its standard output; once the stream is read, the second value gives
    (exit code, standard error)."""
    api = _client(docker_url).api
    exec_id = _call("create a command in a container", api.exec_create, container_id, cmd, user=user)["Id"]
    frames = _call("start a command in a container", api.exec_start, exec_id, stream=True, demux=True)
    errors = []

    def stdout() -> Iterator[bytes]:
        for out, err in frames:
            if err:
                errors.append(err)
            if out:
                yield out

    return stdout(), lambda: (_exit_code(api, exec_id), b"".join(errors).decode(errors="replace"))


def _exit_code(api, exec_id: str) -> int:
    """The command's exit code, once Docker has seen it end (a moment after its output closes)."""
    for _ in range(100):
        info = _call("inspect a command", api.exec_inspect, exec_id)
        if not info["Running"] and info["ExitCode"] is not None:
            return info["ExitCode"]
        time.sleep(0.02)
    raise DockerError("the command did not end", retryable=False)
