"""Session containers sit on an isolated network, firewalled from this host and the control plane
(real engine, real iptables; the probes stay inside the Docker network our dockerd created)."""

import os
import socket
import subprocess
import threading

import docker
import pytest

from apps.agents.runtime.docker import container_remove
from apps.agents.session_network import blocked_destinations, firewall_commands, session_network_prepare
from apps.sessions.launcher import session_container_start
from tests.conftest import run_manage
from tests.sessions.test_launcher import spec

pytestmark = pytest.mark.usefixtures("built_images")


@pytest.fixture(scope="module")
def network(docker_url):
    if os.geteuid() != 0:
        pytest.fail("The session firewall test needs root (iptables), as in CI; run `sudo make test`.")
    return session_network_prepare(docker_url)


@pytest.fixture
def session_container(docker_url, network):
    started = []

    def start():
        outcome = session_container_start(docker_url=docker_url, spec=spec())
        started.append(outcome.container_id)
        return docker.DockerClient(base_url=docker_url).containers.get(outcome.container_id)

    yield start
    for container_id in started:
        container_remove(docker_url, container_id)


@pytest.fixture
def listener_on_the_gateway(network):
    """A TCP service on this host's side of the session network, standing in for Redis or Postgres
    listening on every address. Records whether any connection arrived."""
    server = socket.create_server((network.gateway, 0))
    server.settimeout(0.5)
    arrived = []

    def accept():
        while not stopped.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            arrived.append(connection.getpeername())
            connection.close()

    stopped = threading.Event()
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], arrived
    stopped.set()
    server.close()
    thread.join(timeout=2)


def probe(container, address: str, port: int) -> bool:
    """Whether the container connects to address:port within 2 s (busybox nc)."""
    result = container.exec_run(["timeout", "3", "nc", "-w", "2", address, str(port)], stdin=False)
    return result.exit_code == 0


def test_the_network_keeps_containers_apart(docker_url, network):
    attrs = docker.DockerClient(base_url=docker_url).networks.get(network.name).attrs
    assert attrs["Options"]["com.docker.network.bridge.enable_icc"] == "false"


def test_a_session_cannot_reach_this_hosts_services_or_another_session(
    session_container, network, listener_on_the_gateway, redis_url, docker_url
):
    port, arrived = listener_on_the_gateway
    mine, theirs = session_container(), session_container()
    assert mine.attrs["HostConfig"]["NetworkMode"] == network.name
    assert not probe(mine, network.gateway, port) and arrived == []
    redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    assert not probe(mine, network.gateway, redis_port)
    theirs.reload()
    their_address = theirs.attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"]
    assert not probe(mine, their_address, 6901)  # another user's workspace
    # ... while this host still reaches the session through its published port (what the proxy does)
    published = int(mine.attrs["NetworkSettings"]["Ports"]["6901/tcp"][0]["HostPort"])
    with socket.create_connection(("127.0.0.1", published), timeout=5):
        pass


def test_the_rules_are_in_place_in_order_and_block_link_local_addresses(network):
    def rules(chain: str) -> list[str]:
        return subprocess.run(["iptables", "-S", chain], capture_output=True, text=True, check=True).stdout.splitlines()

    assert f"-A INPUT -i {network.interface} -j KASM-SESSIONS-IN" in rules("INPUT")
    assert rules("KASM-SESSIONS-IN")[1:] == [
        "-A KASM-SESSIONS-IN -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        "-A KASM-SESSIONS-IN -j DROP",
    ]
    assert f"-A DOCKER-USER -i {network.interface} -j KASM-SESSIONS-FWD" in rules("DOCKER-USER")
    assert "-A KASM-SESSIONS-FWD -d 169.254.0.0/16 -j DROP" in rules("KASM-SESSIONS-FWD")


def test_the_rules_are_printed_for_hosts_where_the_agent_is_not_root(network):
    printed = run_manage("session_firewall").stdout.splitlines()
    assert printed == [" ".join(command) for command in firewall_commands(network.interface, blocked_destinations())]
    assert f"iptables -I INPUT 1 -i {network.interface} -j KASM-SESSIONS-IN" in printed


def test_a_run_config_cannot_leave_the_session_network():
    from apps.sessions.launcher import container_options

    options = container_options(spec(run_config={"network_mode": "host", "network": "bridge"}))
    assert "network_mode" not in options and "network" not in options


def test_a_network_whose_gateway_is_not_on_this_host_is_refused(monkeypatch, docker_url):
    from apps.agents import session_network as module
    from apps.agents.runtime.docker import DockerError, NetworkInfo

    stolen = NetworkInfo(name="kasm-sessions", interface="kasm-sessions", subnet="192.0.2.0/24", gateway="192.0.2.77")
    monkeypatch.setattr(module, "network_ensure", lambda *args, **kwargs: stolen)
    with pytest.raises(DockerError, match="another Docker engine here made a bridge"):
        module.session_network(docker_url)
