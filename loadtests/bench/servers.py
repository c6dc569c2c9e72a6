"""Starting the benchmarked servers as separate processes on loopback, and reading their
peak memory and CPU time from /proc."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "UNLIMITED",
    "RunningServer",
    "children",
    "cpu_seconds",
    "free_port",
    "peak_rss_mb",
    "serve",
]

BIN = Path(sys.executable).parent
#: Benchmarks measure the server's throughput, not its rate limiter (on by default).
UNLIMITED = {"SCIMLAB_RATE_LIMIT_STORE": "off"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (which may hold spaces)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (granian's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(_stat(int(entry.name))[1]) == pid:
                found.append(int(entry.name))
    return found


def _family(pid: int) -> list[int]:
    """A process and all its descendants."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children(current))
    return found


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its descendants, in MiB."""
    total_kb = 0
    for member in _family(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
    return total_kb / 1024


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process and its living descendants have used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in _family(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = _stat(member)
            total += int(fields[11]) + int(fields[12])
    return total / tick


@dataclass
class RunningServer:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    base_path: str

    @property
    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.process.pid)

    @property
    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)


@contextlib.contextmanager
def serve(
    name: str, command: list[str], *, port: int, probe: str, base_path: str, env: dict[str, str]
) -> Iterator[RunningServer]:
    process = subprocess.Popen(  # noqa: S603 - our own executables
        command,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=1).status_code < 500:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                msg = f"{name} did not start on port {port}"
                raise RuntimeError(msg)
            time.sleep(0.1)
        yield RunningServer(name, port, process, base_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def granian_command(factory: str, port: int) -> list[str]:
    return [
        str(BIN / "granian"),
        "--interface",
        "asgi",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--loop",
        "uvloop",  # as `scimlab serve` runs
        "--no-access-log",
        factory,
    ]


def scimlab_command(port: int) -> list[str]:
    return [str(BIN / "scimlab"), "serve", "--port", str(port), "--workers", "1"]
