"""django-scim2 (PyPI) on a throwaway Django project (``tests/peers/django_scim``): its
models on Django's user, SQLite in a temporary file, one static bearer token, served by
Django's own development server (one tenant per process).

    python -m tests.peers.django_scim2_peer   # serves until Ctrl-C
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tests.peers.peer import Peer, PeerFailed, free_port, running

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["django_scim2"]

PROJECT = Path(__file__).parent / "django_scim"
#: What its default user adapter stores (Django's user: username, first and last name, one
#: e-mail without a type, is_active; and the SCIM externalId). RFC 7643 makes the rest optional.
KEEPS = frozenset({"userName", "name.givenName", "name.familyName", "active", "externalId"})


@contextlib.contextmanager
def django_scim2(log_path: Path) -> Iterator[Peer]:
    try:
        import django_scim  # noqa: F401, PLC0415 - only to say what is missing
    except ImportError:
        raise PeerFailed("django-scim2 is not installed: pip install django-scim2") from None
    port, token = free_port(), f"dj-{secrets.token_hex(12)}"
    database = log_path.with_suffix(".sqlite3")
    env = {
        "PEER_DATABASE": str(database),
        "PEER_TOKEN": token,
        "DJANGO_SETTINGS_MODULE": "peerapp.settings",
        "PYTHONPATH": str(PROJECT),
    }
    python = [sys.executable, "-m", "django"]
    made = subprocess.run(
        [*python, "migrate", "--run-syncdb", "-v", "0"],
        cwd=PROJECT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if made.returncode != 0:
        raise PeerFailed(f"django-scim2's database could not be made:\n{made.stderr[-2000:]}")
    peer = Peer("django-scim2", f"http://127.0.0.1:{port}/scim/v2", token, keeps=KEEPS)
    command = [*python, "runserver", f"127.0.0.1:{port}", "--noreload"]
    with running(command, peer, log_path, cwd=PROJECT, env=env) as started:
        yield started


if __name__ == "__main__":  # pragma: no cover - a manual entry point
    import time

    with django_scim2(Path("django-scim2.log")) as started:
        print(f"django-scim2: {started.base} token {started.token}", flush=True)
        while True:
            time.sleep(3600)
