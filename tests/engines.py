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


class SecondEngine:
    """The second dockerd, which a test may restart (as an upgrade or a crash of Docker would)."""

    url = SOCKET_URL

    def __init__(self, log_path: Path):
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
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
        self.process = subprocess.Popen(command, stdout=self.log_path.open("a"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                engine_ping(SOCKET_URL)
                return
            except DockerError:
                if self.process.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
            self.process.kill()
            raise RuntimeError(f"the second dockerd did not start; see {self.log_path}:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM, as `systemctl stop docker` sends: without live-restore, it stops every container."""
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self) -> str:
        return self.log_path.read_text()[-2000:]
