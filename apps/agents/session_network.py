"""The network an agent starts session containers on, and the host firewall around it.

A container's user controls everything inside it, so a session must reach neither the other
sessions nor the control plane. The network is a bridge with inter-container traffic off
(`enable_icc=false`). The agent applies these rules at start when it runs as root
(`manage.py session_firewall` prints them for hosts where it does not):

    INPUT -i IFACE -> KASM-SESSIONS-IN:          ESTABLISHED,RELATED RETURN (answers to the proxy's
                                                 own connections), then DROP: nothing on the agent
                                                 host itself (Redis, Postgres, daphne, sshd, ...)
    DOCKER-USER -i IFACE -> KASM-SESSIONS-FWD:   DROP to link-local addresses (cloud metadata
                                                 169.254.169.254), the hosts of REDIS_URL and
                                                 DATABASE_URL, and SESSION_NETWORK_BLOCKED
"""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
import socket
import subprocess
from urllib.parse import urlsplit

from django.conf import settings

from apps.agents.labels import MANAGED_LABEL
from apps.agents.runtime.docker import DockerError, NetworkInfo, network_ensure

logger = logging.getLogger(__name__)
LINK_LOCAL = "169.254.0.0/16"
CHAIN_PREFIX = "KASM-SESSIONS"


def session_network(docker_url: str) -> NetworkInfo:
    """The isolated session network of this engine, created when missing, and checked to be this
    host's: its gateway address must be on this host (another engine on the same host that made a
    bridge of the same name takes the interface over, and traffic to the sessions would then leave
    by the default route)."""
    name = settings.SESSION_NETWORK
    network = network_ensure(docker_url, name=name, interface=name[:15], labels={MANAGED_LABEL: "true"})
    if network.gateway and not _address_is_local(network.gateway):
        raise DockerError(
            f"the session network {name} expects the gateway {network.gateway}, which no interface of this "
            f"host has: another Docker engine here made a bridge named {network.interface}. Give each engine "
            "its own SESSION_NETWORK, then remove the network (docker network rm) so the agent recreates it",
            retryable=False,
        )
    return network


def _address_is_local(address: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError:
            return False
    return True


def session_network_prepare(docker_url: str) -> NetworkInfo:
    """At agent start: the network, and the firewall rules around it where this process may set them."""
    network = session_network(docker_url)
    if os.geteuid() != 0 or shutil.which("iptables") is None:
        logger.warning(
            "Not root or no iptables: session containers on %s are not firewalled from this host; "
            "as root, run the commands `manage.py session_firewall` prints",
            network.name,
        )
        return network
    for parent, chain, rules in firewall_chains(network.interface, blocked_destinations()):
        firewall_chain_apply(parent, chain, network.interface, rules)
    logger.info("Session network %s (%s) isolated from this host and the control plane", network.name, network.subnet)
    return network


def firewall_chains(interface: str, blocked: list[str]) -> list[tuple[str, str, list[list[str]]]]:
    """(parent chain, our chain, its rules in order). Traffic from the session interface jumps from
    the parent to our chain, which we own and rewrite whole, so the order always holds."""
    to_this_host = [
        ["-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "RETURN"],  # answers to the proxy
        ["-j", "DROP"],
    ]
    forwarded = [["-d", destination, "-j", "DROP"] for destination in blocked]
    return [("INPUT", f"{CHAIN_PREFIX}-IN", to_this_host), ("DOCKER-USER", f"{CHAIN_PREFIX}-FWD", forwarded)]


def firewall_commands(interface: str, blocked: list[str]) -> list[list[str]]:
    """The iptables commands that set the chains up from scratch (what `session_firewall` prints)."""
    commands = []
    for parent, chain, rules in firewall_chains(interface, blocked):
        commands += [["iptables", "-N", chain], ["iptables", "-F", chain]]
        commands += [["iptables", "-A", chain, *rule] for rule in rules]
        commands.append(["iptables", "-I", parent, "1", "-i", interface, "-j", chain])
    return commands


def firewall_chain_apply(parent: str, chain: str, interface: str, rules: list[list[str]]) -> None:
    _iptables("-N", chain, quiet=True)  # exists already after the first start
    _iptables("-F", chain)
    for rule in rules:
        _iptables("-A", chain, *rule)
    jump = ["-i", interface, "-j", chain]
    if not _iptables("-C", parent, *jump, quiet=True):
        _iptables("-I", parent, "1", *jump)


def _iptables(*arguments: str, quiet: bool = False) -> bool:
    result = subprocess.run(["iptables", *arguments], capture_output=True, text=True, check=False)
    if result.returncode != 0 and not quiet:
        logger.error("iptables %s failed: %s", " ".join(arguments), result.stderr.strip())
    return result.returncode == 0


def blocked_destinations() -> list[str]:
    """Where session containers may never connect, beyond this host: link-local addresses (cloud
    metadata), the control plane's Redis and Postgres hosts, and what SESSION_NETWORK_BLOCKED adds."""
    hosts = [urlsplit(url).hostname for url in (settings.REDIS_URL, os.environ.get("DATABASE_URL", "")) if url]
    addresses = {f"{address}/32" for host in hosts if host for address in _ipv4_addresses(host)}
    return [LINK_LOCAL, *sorted(addresses), *settings.SESSION_NETWORK_BLOCKED]


def _ipv4_addresses(host: str) -> set[str]:
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None, family=socket.AF_INET)}
    except OSError:
        return set()
    return {address for address in found if not ipaddress.ip_address(address).is_loopback}
