"""scim2-server (PyPI, installed by ``pip install -e '.[test]'``): in-memory storage, one
tenant per path segment (``--dynamic-tenants``), a static bearer token.

    python -m tests.peers.scim2_server   # serves until Ctrl-C, printing its base URL
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tests.peers.peer import Peer, PeerFailed, free_port, running

if TYPE_CHECKING:
    import contextlib

__all__ = ["scim2_server"]

BINARY = Path(sys.executable).parent / "scim2-server"


def scim2_server(log_path: Path) -> contextlib.AbstractContextManager[Peer]:
    if not BINARY.exists():
        raise PeerFailed(f"scim2-server is not installed ({BINARY}): pip install scim2-server")
    port, token = free_port(), f"s2-{secrets.token_hex(12)}"
    command = [str(BINARY), "--port", str(port), "--bearer-token", token, "--dynamic-tenants"]
    peer = Peer("scim2-server", f"http://127.0.0.1:{port}", token, tenants=True)
    return running(command, peer, log_path)


if __name__ == "__main__":  # pragma: no cover - a manual entry point
    import time

    with scim2_server(Path("scim2-server.log")) as started:
        print(f"scim2-server: {started.base}/<tenant> token {started.token}", flush=True)
        while True:
            time.sleep(3600)
