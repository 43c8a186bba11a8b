"""Agent side of a session: the container, created idempotently from a launch spec.

The spec is plain JSON built by the manager (services.session_launch_spec), so a redelivered
launch task finds the container it already started instead of starting a second one.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from apps.agents.docker_names import session_container_name
from apps.agents.labels import (
    AGENT_LABEL,
    IMAGE_LABEL,
    INSTALLATION_LABEL,
    MANAGED_LABEL,
    SESSION_LABEL,
    USER_LABEL,
)
from apps.agents.runtime.docker import (
    ContainerNameInUse,
    DockerError,
    container_exec_feeding,
    container_find,
    container_published_port,
    container_remove,
    container_run,
    container_start,
    container_unpause,
)
from apps.agents.session_network import session_network
from apps.images.choices import CpuAllocationMethod
from apps.images.limits import RESOURCE_LIMITS, limit_restricts
from apps.sessions.mounts import profile_remove, session_mounts
from apps.sessions.workspace_tls import workspace_tls_context

WORKSPACE_PORT = 6901
# What a workspace image provides to change its VNC password while it runs (the new one on
# standard input); workspaces/desktop has it. A shell's "command not found" means it has none.
VNC_PASSWORD_COMMAND = "vnc-password-set"  # noqa: S105  (a command name)
COMMAND_NOT_FOUND = (126, 127)
SAFE_DEFAULTS = {
    "privileged": False,
    "security_opt": ["no-new-privileges"],
    "cap_drop": ["ALL"],
    "pids_limit": 1024,
    "shm_size": "256m",
    "init": True,
}


@dataclass(frozen=True)
class LaunchOutcome:
    container_id: str
    host_port: int
    created: bool  # False when the container existed (a redelivered launch, or a resume)


def cpu_options(method: str, cores: float) -> dict:
    if method == CpuAllocationMethod.QUOTAS:
        return {"nano_cpus": int(cores * 1e9)}
    if method == CpuAllocationMethod.SHARES:
        return {"cpu_shares": max(2, int(1024 * cores))}
    return {}


def container_options(spec: dict) -> dict:
    """`docker run` options: safe defaults, the image's run_config over them, then our limits."""
    options = {**SAFE_DEFAULTS, **spec["run_config"]}
    # cap_add adds to an empty set: `cap_drop: ALL` stays whatever the image asks for.
    options["cap_drop"] = ["ALL"]
    # Ours to choose: the network in particular, so that no run_config (`network_mode: host`) leaves
    # the isolated session network.
    for reserved in ("name", "labels", "environment", "ports", "detach", "image", "network", "network_mode"):
        options.pop(reserved, None)
    for limit in RESOURCE_LIMITS:  # an image may tighten a limit, never lift it (0 or -1: "unlimited")
        if not limit_restricts(options.get(limit, 1)):
            options.pop(limit)
            if limit in SAFE_DEFAULTS:
                options[limit] = SAFE_DEFAULTS[limit]
    options.pop("mounts", None)  # ours: the profile and the checked volume mappings
    options["mem_limit"] = spec["memory"]
    options.update(cpu_options(spec["cpu_allocation_method"], spec["cores"]))
    return options


def session_container_start(*, docker_url: str, spec: dict) -> LaunchOutcome:
    """Start the session's container unless it exists; wait until the workspace answers on 6901.

    The container's name is the session's, so creating a session's first container is the check:
    only a redelivered launch finds the name taken, and then looks the container up. A session
    that ran before (`container_id`: a resume, a restart) is looked up by its label first, since
    its name may be another owner's (a claimed staged session's container was named for the
    staging user). A profile asked to be reset is deleted first, unless the container exists (then
    it was reset already, by the first delivery)."""
    profile = spec.get("profile")
    reset = profile and profile.get("reset")
    if reset and container_find(docker_url, label=SESSION_LABEL, value=spec["session_id"]) is None:
        profile_remove(docker_url, kind=profile["kind"], source=profile["source"])
    ran_before = spec.get("container_id") and container_find(docker_url, label=SESSION_LABEL, value=spec["session_id"])
    try:
        if ran_before:
            container_id, created = _started(docker_url, ran_before), False
        else:
            container_id, created = _create(docker_url, spec), True
    except ContainerNameInUse:
        container_id, created = _existing_started(docker_url, spec), False
    try:
        host_port = container_published_port(docker_url, container_id, WORKSPACE_PORT)
        if host_port is None:
            raise DockerError(f"container {container_id[:12]} publishes no port {WORKSPACE_PORT}", retryable=False)
        wait_until_answering(spec["address"], host_port, timeout=spec["start_timeout"], tls=spec["tls"])
    except DockerError:
        container_remove(docker_url, container_id)  # a failed launch leaves nothing behind
        raise
    return LaunchOutcome(container_id=container_id, host_port=host_port, created=created)


def _existing_started(docker_url: str, spec: dict) -> str:
    """A redelivered launch or a resume: the session's container, started if it is not running."""
    existing = container_find(docker_url, label=SESSION_LABEL, value=spec["session_id"])
    if existing is None:
        raise DockerError(
            f"a container named {container_name(spec)} exists but is not this session's; remove it",
            retryable=False,
        )
    return _started(docker_url, existing)


def _started(docker_url: str, existing) -> str:
    """The session's container, unpaused or started again if it is not running."""
    if existing.status == "paused":
        container_unpause(docker_url, existing.id)  # a resumed paused session: its processes go on
    elif existing.status != "running":
        container_start(docker_url, existing.id)  # a resumed stopped session: its desktop starts again
    return existing.id


def container_name(spec: dict) -> str:
    return session_container_name(username=spec["username"], session_id=spec["session_id"])


def _create(docker_url: str, spec: dict) -> str:
    labels = {
        MANAGED_LABEL: "true",
        SESSION_LABEL: spec["session_id"],
        USER_LABEL: spec["username"],
        IMAGE_LABEL: spec["image_id"],
        AGENT_LABEL: spec["agent"],
        INSTALLATION_LABEL: spec["installation_id"],
    }
    return container_run(
        docker_url,
        image=spec["docker_image"],
        name=container_name(spec),
        labels=labels,
        environment=spec["environment"],
        publish_port=WORKSPACE_PORT,
        publish_address=spec["address"],
        gpus=spec["gpus"],
        network=spec["network"] or session_network(docker_url).name,
        mounts=session_mounts(docker_url, spec),
        options=container_options(spec),
    )


def wait_until_answering(address: str, port: int, *, timeout: float, tls: bool = False) -> None:
    """Poll until the workspace answers HTTP(S) on its published port. (Its VNC server may come up
    a moment later; the proxy waits for it on the first connection.)"""
    deadline = time.monotonic() + timeout
    url = f"{'https' if tls else 'http'}://{address}:{port}/"
    while True:
        try:
            with socket.create_connection((address, port), timeout=1):
                pass
            _http_answers(url, tls)
            return
        except OSError as error:
            if time.monotonic() > deadline:
                raise DockerError(
                    f"the workspace did not answer on {address}:{port} in {timeout:.0f} s ({error})", retryable=False
                ) from None
            time.sleep(0.01)


def _http_answers(url: str, tls: bool) -> None:
    context = workspace_tls_context() if tls else None
    try:
        urllib.request.urlopen(url, timeout=2, context=context).close()  # noqa: S310
    except urllib.error.HTTPError:
        return  # it answered (401 from a KasmVNC image without credentials, for one)


def vnc_secret_install(docker_url: str, container_id: str, secret: str) -> bool:
    """Make `secret` the container's VNC password (VNC_PASSWORD_COMMAND, as the container's user);
    False when the image cannot change it while it runs. Raises DockerError when it tried and failed."""
    exit_code, output = container_exec_feeding(
        docker_url, container_id, cmd=[VNC_PASSWORD_COMMAND], user="", chunks=[secret.encode() + b"\n"]
    )
    if exit_code in COMMAND_NOT_FOUND or "executable file not found" in output:
        return False
    if exit_code != 0:
        raise DockerError(f"{VNC_PASSWORD_COMMAND} exited with {exit_code}: {output[-500:]}", retryable=False)
    return True
