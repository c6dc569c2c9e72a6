"""A SCIM server we did not write, started as its own process on 127.0.0.1 for a test.

Each module in ``tests/peers`` knows how to install-check and start one peer; ``running``
starts the command, waits (bounded) until the SCIM base answers, and stops it afterwards.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = ["Peer", "PeerFailed", "free_port", "running"]


class PeerFailed(RuntimeError):
    """The peer is not installed or did not start; the message says why."""


@dataclass(frozen=True)
class Peer:
    name: str
    base: str
    token: str
    #: Whether the base takes a fresh path segment per tenant (scim2-server --dynamic-tenants).
    tenants: bool = False
    #: What follows the tenant segment (SCIMMY: ``/scim``).
    suffix: str = ""
    #: The user attributes it keeps (simulator compare keys); ``None``: every one.
    keeps: frozenset[str] | None = None

    def tenant(self) -> str:
        """A base URL where a run meets no earlier run's users, when the peer offers it."""
        if not self.tenants:
            return self.base + self.suffix
        return f"{self.base}/{uuid.uuid4().hex}{self.suffix}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running(
    command: list[str],
    peer: Peer,
    log_path: Path,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Iterator[Peer]:
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env={**os.environ, **(env or {})},
        )
    try:
        deadline = time.monotonic() + timeout
        headers = {"Authorization": f"Bearer {peer.token}"}
        while True:
            with contextlib.suppress(httpx.TransportError):
                if (
                    httpx.get(f"{peer.tenant()}/Users", headers=headers, timeout=2).status_code
                    < 500
                ):
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise PeerFailed(f"{peer.name} did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        yield peer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
