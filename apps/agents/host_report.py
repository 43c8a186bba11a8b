"""What an agent tells the manager at each check-in, gathered from psutil, Docker and NVML."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

import psutil

from apps.agents.gpus import GpuReport, gpu_inventory
from apps.agents.labels import AGENT_LABEL, INSTALLATION_LABEL, SESSION_LABEL
from apps.agents.runtime.docker import containers_with_label, engine_info, images_list, network_names


@dataclass(frozen=True)
class SessionContainer:
    container_id: str
    session_id: str
    status: str
    installation_id: str  # labels: whose container it is (another installation may share the engine)
    agent: str


@dataclass(frozen=True)
class HostReport:
    hostname: str
    address: str
    docker_version: str
    architecture: str
    cores: int
    memory_total: int
    memory_used: int
    cpu_percent: float
    disk_total: int
    disk_free: int  # what is left to use (df's "Avail")
    disk_used: int  # df's "Used" of the Docker data root's filesystem, not total minus free
    gpus: list[GpuReport] = field(default_factory=list)
    containers: list[SessionContainer] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    image_sizes: dict[str, int] = field(default_factory=dict)
    networks: list[str] = field(default_factory=list)  # the engine's Docker networks, by name
    checkin_interval: int = 0  # seconds between this agent's check-ins (0: an agent too old to say)

    def as_message(self) -> dict:
        """Plain JSON for the check-in task."""
        return asdict(self)


def host_report_collect(*, hostname: str, address: str, docker_url: str, checkin_interval: int) -> HostReport:
    engine = engine_info(docker_url)
    disk = psutil.disk_usage(engine.data_root if os.path.isdir(engine.data_root) else "/")
    containers = containers_with_label(docker_url, SESSION_LABEL)
    image_sizes = {tag: image.size for image in images_list(docker_url) for tag in image.tags}
    return HostReport(
        hostname=hostname,
        address=address,
        docker_version=engine.version,
        architecture=engine.architecture,
        cores=engine.cores,
        memory_total=engine.memory,
        memory_used=psutil.virtual_memory().used,
        cpu_percent=psutil.cpu_percent(interval=None),
        disk_total=disk.total,
        disk_free=disk.free,
        disk_used=disk.used,
        networks=network_names(docker_url),
        gpus=gpu_inventory(),
        containers=[
            SessionContainer(
                container_id=c.id,
                session_id=c.labels[SESSION_LABEL],
                status=c.status,
                installation_id=c.labels.get(INSTALLATION_LABEL, ""),
                agent=c.labels.get(AGENT_LABEL, ""),
            )
            for c in containers
        ],
        images=sorted(image_sizes),
        image_sizes=image_sizes,
        checkin_interval=checkin_interval,
    )


def host_report_from_message(message: object) -> HostReport:
    """Parse a check-in message strictly; a malformed one raises ValueError saying what is wrong."""
    if not isinstance(message, dict):
        raise ValueError("a check-in must be a JSON object")
    fields = {name: _typed(message, name, kind) for name, kind in _SCALAR_FIELDS.items()}
    gpus = [GpuReport(**_record(item, GpuReport)) for item in _list(message, "gpus")]
    containers = [SessionContainer(**_record(item, SessionContainer)) for item in _list(message, "containers")]
    images = [image for image in _list(message, "images") if isinstance(image, str)]
    networks = [name[:255] for name in _list(message, "networks") if isinstance(name, str)][:1000]
    sizes = message.get("image_sizes")
    image_sizes = {
        tag: size
        for tag, size in (sizes.items() if isinstance(sizes, dict) else ())
        if isinstance(size, int) and not isinstance(size, bool)
    }
    interval = message.get("checkin_interval", 0)
    return HostReport(
        **fields,
        gpus=gpus,
        containers=containers,
        images=images,
        image_sizes=image_sizes,
        networks=networks,
        checkin_interval=interval if isinstance(interval, int) and not isinstance(interval, bool) else 0,
    )


_SCALAR_FIELDS = {
    "hostname": str,
    "address": str,
    "docker_version": str,
    "architecture": str,
    "cores": int,
    "memory_total": int,
    "memory_used": int,
    "cpu_percent": (int, float),
    "disk_total": int,
    "disk_free": int,
    "disk_used": int,
}


def _typed(message: dict, name: str, kind):
    value = message.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"check-in field {name!r} is missing or not a {getattr(kind, '__name__', 'number')}")
    return value


def _list(message: dict, name: str) -> list:
    value = message.get(name, [])
    if not isinstance(value, list):
        raise ValueError(f"check-in field {name!r} must be a list")
    return value


def _record(item: object, record_type) -> dict:
    names = record_type.__dataclass_fields__.keys()
    if not isinstance(item, dict) or set(item) != set(names):
        raise ValueError(f"a {record_type.__name__} needs exactly the fields {', '.join(names)}")
    return item
