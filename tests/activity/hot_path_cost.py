"""What the activity log costs a SCIM request, in instructions: run under callgrind, in
process, with the recorder off, queueing only, or queueing and writing its batches.

    valgrind --tool=callgrind --instr-atstart=no --dump-before=getppid \
        --callgrind-out-file=cg.MODE .venv/bin/python -m tests.activity.hot_path_cost MODE N

does warm-up reads and creates, then N reads by id and N creates, each straight into the
app's ASGI callable (the edge and its fast routes; no HTTP client), on a fresh SQLite
file. Start-up runs uninstrumented (``callgrind_control -i on`` is asked for at once and
waited for before the measured part); ``os.getppid()`` marks the measured part, so callgrind
dumps the reads (``cg.MODE.2``) and the creates (``cg.MODE.3``) on their own.
``off`` leaves the edge without an observer (the code path of an app without the log);
``queue`` observes and queues but never writes (the request's own cost); ``full`` also
writes every batch inside the measured part (the request's cost plus its share of the
background batch). Figures go to docs/performance.md, not here.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import server.activity.plugin as activity_plugin
from loadtests.operation_cost import call_app
from server.activity.recorder import ActivityRecorder
from server.app import create_app
from server.settings import Settings

WARM_UP = 50
UNLIMITED = {"scim_rate_limit": 1e6, "scim_rate_burst": 1_000_000}


async def _call(app: Any, method: str, path: str, token: str, body: bytes = b"") -> int:
    status, _ = await call_app(app, method, path, token, json.loads(body) if body else None)
    return status


def _user(n: int) -> bytes:
    user = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": f"u{n}@x.org",
        "name": {"givenName": "Dana", "familyName": f"Lee{n}"},
        "phoneNumbers": [{"type": "mobile", "value": "+1 555 0100"}],
    }
    return json.dumps(user).encode()


async def _lifespan(app: Any) -> tuple[asyncio.Queue[dict[str, Any]], asyncio.Task[None]]:
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan"}, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    return inbox, task


def instrument() -> subprocess.Popen[bytes]:
    """Ask callgrind to start counting; it answers once it has (``wait``)."""
    command = ["callgrind_control", "-i", "on", str(os.getpid())]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def main(mode: str, count: int, instrumenting: subprocess.Popen[bytes]) -> None:
    if mode == "off":
        activity_plugin.ActivityObserver = lambda add: None  # type: ignore[assignment,misc,return-value]
    if mode == "queue":
        ActivityRecorder.start = lambda self: None  # type: ignore[method-assign]
    where = Path(tempfile.mkdtemp())
    settings = Settings(database_url=f"sqlite:///{where / 'cost.db'}", log_level="WARNING",
                        **UNLIMITED)  # type: ignore[arg-type]  # fmt: skip
    app = create_app(settings)
    inbox, task = await _lifespan(app)
    services = app.state.services
    made = await services.practices.create_practice("Cost Clinic", actor="probe")
    practice = made.practice.id
    await services.practices.enable(practice, actor="probe")
    token = (await services.practices.create_static_token(practice, actor="probe")).token
    users = f"/scim/v2/{practice}/Users"
    created = await _call(app, "POST", users, token, _user(0))
    assert created == 201
    found = await services.store.staff.list_all(practice)
    one = f"{users}/{next(s.id for s in found if s.scim_provisioned)}"
    for n in range(1, WARM_UP):
        assert await _call(app, "POST", users, token, _user(n)) == 201
        assert await _call(app, "GET", one, token) == 200
    recorder = app.state.activity_recorder
    await recorder.flush()
    await asyncio.to_thread(instrumenting.wait)
    gc.collect()
    gc.freeze()  # as a served worker does once ready (server/ops/heap.py): no full collection
    # walks the start-up heap in the measured part, so the modes differ by their own work only
    os.getppid()  # --- measured from here: N reads by id (dump .2) --------------------------
    for _ in range(count):
        assert await _call(app, "GET", one, token) == 200
    if mode == "full":
        await recorder.flush()
    os.getppid()  # --- then N creates (dump .3) ---------------------------------------------
    for n in range(WARM_UP, WARM_UP + count):
        assert await _call(app, "POST", users, token, _user(n)) == 201
    if mode == "full":
        await recorder.flush()
    os.getppid()  # --- to here -------------------------------------------------------------
    await inbox.put({"type": "lifespan.shutdown"})
    await task


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), instrument()))
