"""Two ``scimlab serve`` hosts behind HAProxy, for the deployment test.

Each host runs in its own network namespace (``ip netns``, joined to this one by a veth
pair) when this process may make them (root, iproute2, a kernel that allows it); otherwise
both run here on two loopback addresses, 127.0.0.2 and 127.0.0.3. ``MODE`` says which.
In a namespace the host's 127.0.0.1 is its own, so it reaches PostgreSQL through the
server's Unix socket (a file path, the same in every network namespace).

HAProxy runs here with ``docs/haproxy.cfg``, the file the README shows; its addresses come
from the environment.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from tests.reliability.support import SCIMLAB, free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
HAPROXY_CFG = ROOT / "docs" / "haproxy.cfg"
HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/sbin")


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20, check=False)


def namespaces_available() -> bool:
    """Whether ``ip netns add`` works here (root, iproute2, namespaces allowed)."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return False
    probe = f"scimlab-probe-{uuid.uuid4().hex[:6]}"
    if _ip("netns", "add", probe).returncode != 0:
        return False
    _ip("netns", "del", probe)
    return True


def _free_subnet() -> ipaddress.IPv4Network:
    """A /30 of 10.226.0.0/16 that no interface here uses (concurrent runs pick others)."""
    used = _ip("-o", "-4", "addr", "show").stdout
    for _ in range(100):
        network = ipaddress.ip_network(
            f"10.226.{random.randrange(256)}.{4 * random.randrange(64)}/30"
        )
        if f" {next(network.hosts())}/" not in used:
            return network
    msg = "no free 10.226.x.y/30 for the veth pairs"
    raise RuntimeError(msg)


@dataclass
class Host:
    """One ``scimlab serve`` host: its address, namespace (or none) and process."""

    name: str
    address: str
    database_url: str
    log_path: Path
    env: dict[str, str]
    namespace: str | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    launched: float = 0.0

    @property
    def base(self) -> str:
        return f"http://{self.address}:{self.port}"

    def start(self) -> float:
        """Start ``scimlab serve`` and wait until ``/readyz`` answers 200; seconds taken."""
        self.launch()
        return self.wait_ready()

    def launch(self) -> None:
        self.launched = time.monotonic()
        command = [SCIMLAB, "serve", "--host", self.address, "--port", str(self.port)]
        if self.namespace is not None:
            command = ["ip", "netns", "exec", self.namespace, *command]  # execs: same pid
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                env={**self.env, "SCIMLAB_DATABASE_URL": self.database_url},
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Seconds from launch until ``/readyz`` answered 200."""
        assert self.process is not None
        while time.monotonic() - self.launched < timeout and self.process.poll() is None:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return time.monotonic() - self.launched
            time.sleep(0.1)
        self.kill()
        msg = f"{self.name} did not start:\n{self.log_path.read_text()[-3000:]}"
        raise RuntimeError(msg)

    def kill(self) -> None:
        """SIGKILL every process of the host (the main process and its workers) at once."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)

    def terminate(self) -> None:
        """SIGTERM to the main process only, as an orchestrator stops a service."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def accepts(self) -> bool:
        """Whether the listener still takes a new connection."""
        try:
            with socket.create_connection((self.address, self.port), timeout=1):
                return True
        except OSError:
            return False

    def ready_status(self) -> int | None:
        try:
            return httpx.get(f"{self.base}/readyz", timeout=1).status_code
        except httpx.TransportError:
            return None


@dataclass
class Balancer:
    """HAProxy with ``docs/haproxy.cfg``; its admin socket tells each server's state."""

    port: int
    socket_path: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, hosts: list[Host]) -> None:
        env = {
            **os.environ,
            "SCIMLAB_LB_BIND": f"127.0.0.1:{self.port}",
            "SCIMLAB_HAPROXY_SOCKET": str(self.socket_path),
            "SCIMLAB_HOST1": f"{hosts[0].address}:{hosts[0].port}",
            "SCIMLAB_HOST2": f"{hosts[1].address}:{hosts[1].port}",
        }
        check = subprocess.run(
            [str(HAPROXY), "-c", "-f", str(HAPROXY_CFG)], env=env, capture_output=True, text=True,
            timeout=20, check=False,
        )  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(HAPROXY), "-db", "-f", str(HAPROXY_CFG)], env=env, stdout=log, stderr=log,
                start_new_session=True,
            )  # fmt: skip

    def states(self) -> dict[str, str]:
        """Each server's state as HAProxy sees it (``UP``, ``DOWN``, ``UP 1/2``, ...)."""
        try:
            with socket.socket(socket.AF_UNIX) as admin:
                admin.settimeout(2)
                admin.connect(str(self.socket_path))
                admin.sendall(b"show stat\n")
                data = b""
                while chunk := admin.recv(65536):
                    data += chunk
        except OSError:
            return {}
        rows = data.decode().splitlines()
        header = rows[0].lstrip("# ").split(",") if rows else []
        states = {}
        for row in rows[1:]:
            values = dict(zip(header, row.split(","), strict=False))
            if values.get("pxname") == "scimlab" and values.get("svname") not in {
                "BACKEND",
                "FRONTEND",
            }:
                states[values["svname"]] = values["status"]
        return states

    def wait_for(self, server: str, state: str, timeout: float = 30.0) -> float:
        """Seconds until HAProxy holds ``server`` in ``state``."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.states().get(server) == state:
                return time.monotonic() - started
            time.sleep(0.05)
        msg = f"{server} not {state} after {timeout} s: {self.states()}"
        raise AssertionError(msg)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()


@contextlib.contextmanager
def two_hosts(
    mode: str, tcp_url: str, socket_url: str, env: dict[str, str], folder: Path
) -> Iterator[list[Host]]:
    """Two hosts (not started) in namespaces or on loopback addresses; torn down after."""
    tag = uuid.uuid4().hex[:6]
    hosts: list[Host] = []
    namespaces: list[str] = []
    try:
        for number in (1, 2):
            name = f"host{number}"
            if mode == "netns":
                namespace, subnet = f"scimlab-{tag}-{number}", _free_subnet()
                outside, inside = (str(a) for a in subnet.hosts())
                veth = f"sl{tag}{number}"
                for command in (
                    ["netns", "add", namespace],
                    ["link", "add", f"{veth}a", "type", "veth", "peer", "name", f"{veth}b"],
                    ["link", "set", f"{veth}b", "netns", namespace],
                    ["addr", "add", f"{outside}/30", "dev", f"{veth}a"],
                    ["link", "set", f"{veth}a", "up"],
                    ["-n", namespace, "addr", "add", f"{inside}/30", "dev", f"{veth}b"],
                    ["-n", namespace, "link", "set", f"{veth}b", "up"],
                    ["-n", namespace, "link", "set", "lo", "up"],
                ):
                    done = _ip(*command)
                    assert done.returncode == 0, f"ip {' '.join(command)}: {done.stderr}"
                    if command[:2] == ["netns", "add"]:
                        namespaces.append(namespace)
                host_env = {**env, "SCIMLAB_TRUSTED_PROXIES": outside}
                hosts.append(
                    Host(name, inside, socket_url, folder / f"{name}.log", host_env, namespace)
                )
            else:
                address = f"127.0.0.{number + 1}"
                host_env = {**env, "SCIMLAB_TRUSTED_PROXIES": "127.0.0.1"}
                hosts.append(Host(name, address, tcp_url, folder / f"{name}.log", host_env))
        yield hosts
    finally:
        for host in hosts:
            host.kill()
        for namespace in namespaces:
            _ip("netns", "del", namespace)  # takes its end of the veth pair, and so the pair
