"""The activity log's cost in parts, for instruction counts: a request with the recorder's
queue only, one batch of ``--count`` entries, and a batch per request.

    valgrind --tool=callgrind --dump-before=getppid --callgrind-out-file=/tmp/cg.out \\
        python -m loadtests.activity_batch_cost --operation read --count 50

One practice on a fresh SQLite database, requests straight into the ASGI app as
``loadtests.operation_cost`` sends them; the recorder's background task is not started, so
every batch is written where asked. ``os.getppid()`` marks the parts: dump 2 is ``--count``
requests queued, dump 3 one batch of them written, dump 4 ``--count`` more requests each
written as a batch of one. ``--off`` leaves the edge without an observer (dump 2 is then the
request without the log).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

import server.activity.plugin as activity_plugin
from loadtests.operation_cost import USER_SCHEMA, call_app
from loadtests.operation_cost import _patch as patch_body
from loadtests.operation_cost import _token as seeded_token
from server.activity.recorder import ActivityRecorder
from server.app import create_app
from server.settings import Settings

WARM_UP = 50
_LIMITLESS = 1e9


async def run(operation: str, count: int, folder: Path) -> None:
    url = f"sqlite:///{folder / 'cost.db'}"
    settings = Settings(
        database_url=url,
        public_url="http://bench.local",
        rate_limit_store="memory",
        scim_rate_limit=_LIMITLESS,
        scim_rate_burst=int(_LIMITLESS),
    )
    practice, token = await seeded_token(url, settings, 0)
    users = f"/scim/v2/{practice}/Users"
    app: Any = create_app(settings)
    async with app.lifespan():
        recorder = getattr(app.state, "activity_recorder", None)
        first = {"schemas": [USER_SCHEMA], "userName": "first@example.org"}
        status, created = await call_app(app, "POST", users, token, first)
        assert status == 201, created
        one = f"{users}/{created['id']}"
        made = 0

        async def request() -> None:
            nonlocal made
            made += 1
            if operation == "read":
                status, body = await call_app(app, "GET", one, token)
            elif operation == "create":
                user = {"schemas": [USER_SCHEMA], "userName": f"b{made:06d}@example.org"}
                status, body = await call_app(app, "POST", users, token, user)
            else:
                status, body = await call_app(app, "PATCH", one, token, patch_body(made))
            assert status < 300, body

        async def flush() -> None:
            if recorder is not None:
                await recorder.flush()

        for _ in range(WARM_UP):  # every statement text of a batch seen once
            await request()
        await flush()
        for _ in range(3):
            await request()
            await flush()
        os.getppid()  # dump 2: requests queued
        for _ in range(count):
            await request()
        os.getppid()  # dump 3: one batch of them
        await flush()
        os.getppid()  # dump 4: requests each written as a batch of one
        for _ in range(count):
            await request()
            await flush()
        os.getppid()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operation", choices=["read", "create", "patch"], required=True)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--off", action="store_true", help="no activity observer")
    args = parser.parse_args()
    ActivityRecorder.start = lambda self: None  # type: ignore[method-assign]
    if args.off:
        plugin: Any = activity_plugin  # the plugin then hands the edge no observer
        plugin.ActivityObserver = lambda add: None
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(args.operation, args.count, Path(folder)))


if __name__ == "__main__":
    main()
