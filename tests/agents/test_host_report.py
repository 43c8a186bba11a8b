"""A check-in reports what Docker and psutil see on the host, and the session containers by label."""

import docker
import psutil
import pytest

from apps.agents.host_report import host_report_collect
from apps.agents.labels import SESSION_LABEL
from apps.agents.local_images import RECIPES

BUSYBOX = RECIPES[0]


@pytest.fixture
def session_container(docker_url, built_images):
    client = docker.DockerClient(base_url=docker_url)
    container = client.containers.run(BUSYBOX.tag, detach=True, labels={SESSION_LABEL: "f" * 32})
    yield container
    container.remove(force=True)


def test_report_matches_docker_info_and_psutil(docker_url, session_container):
    report = host_report_collect(hostname="here", address="127.0.0.1", docker_url=docker_url, checkin_interval=30)
    info = docker.DockerClient(base_url=docker_url).info()
    assert (report.docker_version, report.cores, report.memory_total) == (
        info["ServerVersion"],
        info["NCPU"],
        info["MemTotal"],
    )
    assert report.architecture == info["Architecture"]
    disk = psutil.disk_usage(info["DockerRootDir"])
    assert report.disk_total == disk.total and abs(report.disk_free - disk.free) < 512 * 1024**2
    assert abs(report.disk_used - disk.used) < 512 * 1024**2  # as df reports it
    assert report.networks == sorted(n.name for n in docker.DockerClient(base_url=docker_url).networks.list())
    assert abs(report.memory_used - psutil.virtual_memory().used) < 512 * 1024**2
    assert 0 <= report.cpu_percent <= 100
    assert BUSYBOX.tag in report.images
    # Other tests' session containers may run on the shared engine too; ours must be among them.
    assert (session_container.id, "f" * 32) in [(c.container_id, c.session_id) for c in report.containers]
    assert report.gpus == []
