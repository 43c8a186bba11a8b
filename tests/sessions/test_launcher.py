"""The agent side of a launch on the real engine: limits per CPU method, idempotence, exec hooks."""

import uuid

import docker
import pytest

from apps.agents.runtime.docker import DockerError, container_exec, container_remove
from apps.agents.session_network import session_network
from apps.images.choices import CpuAllocationMethod
from apps.sessions.launcher import container_name, container_options, session_container_start
from tests.personas import ALICE
from tests.sessions.conftest import BUSYBOX, DESKTOP
from tests.workers import wait_for


def spec(**changes) -> dict:
    values = {
        "session_id": uuid.uuid4().hex,
        "username": ALICE,
        "image_id": uuid.uuid4().hex,
        "agent": "local",
        "installation_id": "1" * 32,
        "address": "127.0.0.1",
        "docker_image": BUSYBOX.tag,
        "cores": 1.5,
        "memory": 256 * 1024**2,
        "gpus": 0,
        "cpu_allocation_method": CpuAllocationMethod.INHERIT,
        "run_config": {},
        "exec_config": {},
        "network": "",
        "tls": False,
        "start_timeout": 30,
        "environment": {"VNC_PW": "pw", "KASM_URL": "", "KASM_USER": ALICE},
    }
    return {**values, **changes}


@pytest.mark.parametrize(
    ("method", "nano_cpus", "cpu_shares"),
    [
        (CpuAllocationMethod.INHERIT, 0, 0),
        (CpuAllocationMethod.QUOTAS, 1_500_000_000, 0),
        (CpuAllocationMethod.SHARES, 0, 1536),
    ],
)
def test_cpu_allocation_methods_become_docker_limits(started, method, nano_cpus, cpu_shares):
    _, container = started(spec(cpu_allocation_method=method))
    config = container.attrs["HostConfig"]
    assert (config["NanoCpus"], config["CpuShares"], config["Memory"]) == (nano_cpus, cpu_shares, 256 * 1024**2)
    assert config["PidsLimit"] == 1024 and config["Init"] is True


def test_a_redelivered_launch_finds_the_container_it_started(started):
    launch = spec()
    first, _ = started(launch)
    again, _ = started(launch)
    assert (again.container_id, again.host_port) == (first.container_id, first.host_port)
    assert first.created and not again.created


def test_a_launch_resumes_its_stopped_container(started, docker_url):
    launch = spec()
    first, container = started(launch)
    container.stop(timeout=1)
    again, container = started(launch)
    assert again.container_id == first.container_id and not again.created and container.status == "running"


def test_a_foreign_container_with_the_sessions_name_is_reported_and_left_alone(docker_url, built_images):
    launch = spec()
    engine = docker.DockerClient(base_url=docker_url)
    foreign = engine.containers.create(BUSYBOX.tag, name=container_name(launch))
    try:
        with pytest.raises(DockerError, match="exists but is not this session's; remove it"):
            session_container_start(docker_url=docker_url, spec=launch)
        assert engine.containers.get(foreign.id).status == "created"
    finally:
        foreign.remove(force=True)


def test_run_config_overrides_defaults_but_not_our_labels_or_ports(started):
    _, container = started(spec(run_config={"hostname": "ws-1", "pids_limit": 64, "labels": {"x": "y"}}))
    assert container.attrs["Config"]["Hostname"] == "ws-1" and container.attrs["HostConfig"]["PidsLimit"] == 64
    assert "x" not in container.labels and container.labels["org.kasm-local.managed"] == "true"


def test_a_capability_asked_for_is_the_only_one_the_container_gets(started):
    _, container = started(spec(run_config={"cap_add": ["SYS_NICE"], "cap_drop": []}))
    config = container.attrs["HostConfig"]
    assert config["CapAdd"] == ["SYS_NICE"] and config["CapDrop"] == ["ALL"]
    bounding = container.exec_run(["grep", "CapBnd", "/proc/1/status"]).output.decode()
    assert int(bounding.split()[-1], 16) == 1 << 23  # CAP_SYS_NICE alone, not Docker's default set


@pytest.mark.parametrize("pids_limit", [0, -1, True, "unlimited"])
def test_a_limit_of_zero_or_below_never_lifts_the_default(started, pids_limit):
    _, container = started(spec(run_config={"pids_limit": pids_limit, "memswap_limit": -1}))
    assert container.attrs["HostConfig"]["PidsLimit"] == 1024
    assert container_options(spec(run_config={"pids_limit": pids_limit}))["pids_limit"] == 1024


def test_a_workspace_that_never_answers_times_out(docker_url, built_images):
    launch = spec(run_config={"entrypoint": ["sleep", "60"]}, start_timeout=1)
    with pytest.raises(DockerError, match="did not answer"):
        session_container_start(docker_url=docker_url, spec=launch)
    client = docker.DockerClient(base_url=docker_url)
    for container in client.containers.list(
        all=True, filters={"label": f"org.kasm-local.session={launch['session_id']}"}
    ):
        container.remove(force=True)


def test_a_limit_given_as_a_size_is_kept_as_the_review_saw_it():
    """The review (registry flags) and the launcher read a limit by one rule: "2g" restricts."""
    assert container_options(spec(run_config={"memswap_limit": "2g"}))["memswap_limit"] == "2g"


def test_a_workspace_with_a_network_joins_it_instead_of_the_session_network(started, docker_url):
    client = docker.DockerClient(base_url=docker_url)
    for stale in client.networks.list(names=["kasm-test-lab"]):  # left by an interrupted run
        stale.remove()
    network = client.networks.create("kasm-test-lab", driver="bridge")
    container = None
    try:
        _, container = started(spec(network="kasm-test-lab"))
        assert list(container.attrs["NetworkSettings"]["Networks"]) == ["kasm-test-lab"]
        _, default = started(spec())
        assert list(default.attrs["NetworkSettings"]["Networks"]) == [session_network(docker_url).name]
    finally:
        if container is not None:
            container_remove(docker_url, container.id)
        network.remove()


def test_a_paused_or_stopped_desktop_resumes_with_its_window_manager_and_terminal(started, docker_url):
    """Unpaused, the same processes go on; stopped and started, the desktop starts again despite the
    X lock its first X server left in /tmp."""
    launch = spec(docker_image=DESKTOP.tag, memory=1024**3, environment={"VNC_PW": "pw", "KASM_USER": ALICE})
    first, container = started(launch)

    def desktop_processes() -> str:
        """Each of Xtigervnc, openbox and xterm with its start time (ticks since boot)."""
        script = (
            "for p in $(pgrep -x 'Xtigervnc|openbox|xterm'); "
            "do echo $(cat /proc/$p/comm) $(cut -d' ' -f22 /proc/$p/stat); done"
        )
        exit_code, output = container_exec(docker_url, first.container_id, cmd=["sh", "-c", script])
        return output if exit_code == 0 else ""

    wait_for(lambda: len(desktop_processes().split()) == 6, timeout=30, what="Xtigervnc, openbox and xterm")
    before = desktop_processes()
    container.pause()
    started(launch)
    assert desktop_processes() == before  # the very same processes
    container.stop(timeout=5)
    started(launch)
    wait_for(lambda: len(desktop_processes().split()) == 6, timeout=30, what="the desktop restarted")
    assert desktop_processes() != before  # started again, the X lock notwithstanding
