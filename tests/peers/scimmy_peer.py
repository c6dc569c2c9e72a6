"""SCIMMY (npm ``scimmy``) with its Express routers (``scimmy-routers``) over an in-memory
store written for the test (``tests/peers/scimmy/server.js``), one store per tenant segment.

    python -m tests.peers.scimmy_peer   # installs with npm if needed, serves until Ctrl-C
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from tests.peers.peer import Peer, PeerFailed, free_port, running

if TYPE_CHECKING:
    import contextlib

__all__ = ["install", "scimmy"]

HERE = Path(__file__).parent / "scimmy"


def install() -> None:
    """``npm ci`` from the committed lock file, once (node_modules is not committed)."""
    if (HERE / "node_modules" / "scimmy-routers").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise PeerFailed("SCIMMY needs Node.js 16+ and npm on PATH")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise PeerFailed(f"npm ci failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def scimmy(log_path: Path) -> contextlib.AbstractContextManager[Peer]:
    install()
    node = shutil.which("node") or "node"
    port, token = free_port(), f"sy-{secrets.token_hex(12)}"
    peer = Peer("SCIMMY", f"http://127.0.0.1:{port}", token, tenants=True, suffix="/scim")
    return running([node, "server.js", str(port), token], peer, log_path, cwd=HERE)


if __name__ == "__main__":  # pragma: no cover - a manual entry point
    import time

    with scimmy(Path("scimmy.log")) as started:
        print(f"SCIMMY: {started.base}/<tenant>/scim token {started.token}", flush=True)
        while True:
            time.sleep(3600)
