"""Builders for agents tests: a host report as an agent would send it, and agents in the database."""

from apps.agents.gpus import GpuReport
from apps.agents.host_report import HostReport, SessionContainer
from apps.agents.models import Agent
from apps.common.installation import installation_id
from apps.common.units import GIB

CREDENTIAL = "agent-credential-for-tests-" + "c" * 32  # an agent's own secret, as run_agent makes one


def host_report(hostname: str = "agent-1", **changes) -> HostReport:
    values = {
        "hostname": hostname,
        "address": "127.0.0.1",
        "docker_version": "20.10.24",
        "architecture": "x86_64",
        "cores": 6,
        "memory_total": 6 * GIB,
        "memory_used": 2 * GIB,
        "cpu_percent": 25.0,
        "disk_total": 100 * GIB,
        "disk_free": 60 * GIB,
        "disk_used": 35 * GIB,  # total - free - the blocks reserved for root
        "gpus": [],
        "containers": [],
        "images": ["kasm-local/busybox-test:latest"],
    }
    return HostReport(**{**values, **changes})


def gpu(index: int = 0, **changes) -> GpuReport:
    values = {
        "index": index,
        "uuid": f"GPU-{index:08d}",
        "name": "NVIDIA H100 80GB HBM3",
        "memory_total": 80 * GIB,
        "memory_used": GIB,
        "temperature_c": 41,
        "utilization_percent": 7,
    }
    return GpuReport(**{**values, **changes})


def session_container(
    session_id: str = "a" * 32, *, agent: str = "agent-1", installation: str | None = None
) -> SessionContainer:
    """A container as a check-in lists it: by default this installation's, on agent-1."""
    return SessionContainer(
        container_id="c" * 64,
        session_id=session_id,
        status="running",
        installation_id=installation_id() if installation is None else installation,
        agent=agent,
    )


def agent(hostname: str = "agent-1", **fields) -> Agent:
    values = {"address": "127.0.0.1", "status": "online", "approved": True, "cores": 6, "memory": 6 * GIB}
    return Agent.objects.create(hostname=hostname, **{**values, **fields})
