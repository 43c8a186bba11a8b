"""A second Docker engine on this machine, standing in for a second agent host.

It has its own socket, data root, exec root and bridge (no iptables rules, so it never touches the
first engine's); its data root is kept between runs so its images survive.
"""

import shutil
import subprocess
import time
from pathlib import Path

from apps.agents.runtime.docker import DockerError, engine_ping

NAME = "kasm-test-docker2"
BRIDGE = "kasmtestbr2"
# Its agents' session network: a bridge is a host interface, so the name must differ from the first engine's.
SESSION_NETWORK = "kasm-sessions-2"
BRIDGE_ADDRESS = "10.231.0.1/24"
RUN_DIR = Path("/run") / NAME
# "-2": the first data root remembered a session network named like the first engine's, and
# restoring it at start took that host interface away from the first engine. It is removed.
DATA_ROOT = Path("/var/lib") / f"{NAME}-2"
STALE_DATA_ROOT = Path("/var/lib") / NAME
SOCKET_URL = f"unix://{RUN_DIR}/docker.sock"


def ensure_bridge() -> None:
    if subprocess.run(["ip", "link", "show", BRIDGE], capture_output=True).returncode != 0:
        subprocess.run(["ip", "link", "add", BRIDGE, "type", "bridge"], check=True)
        subprocess.run(["ip", "addr", "add", BRIDGE_ADDRESS, "dev", BRIDGE], check=True)
    subprocess.run(["ip", "link", "set", BRIDGE, "up"], check=True)


def start_second_engine(log_path: Path) -> subprocess.Popen:
    ensure_bridge()
    shutil.rmtree(STALE_DATA_ROOT, ignore_errors=True)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    command = [
        "dockerd",
        f"--host={SOCKET_URL}",
        f"--data-root={DATA_ROOT}",
        f"--exec-root={RUN_DIR}/exec",
        f"--pidfile={RUN_DIR}/docker.pid",
        f"--bridge={BRIDGE}",
        "--iptables=false",
        "--ip-masq=false",
    ]
    process = subprocess.Popen(command, stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            engine_ping(SOCKET_URL)
            return process
        except DockerError:
            if process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.3)
                continue
        process.kill()
        raise RuntimeError(f"the second dockerd did not start; see {log_path}:\n{log_path.read_text()[-2000:]}")


def stop_second_engine(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
