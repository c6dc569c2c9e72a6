"""Operations in process, for instruction counts: one practice on a fresh SQLite database,
then ``--count`` requests of one kind (``read`` by id, ``create``, ``patch``, ``list``: a
page of 100 of 1,000 seeded users) sent straight to the ASGI application (no HTTP client, no
sockets), each checked for its status. ``--backend postgresql`` runs them on a throwaway
PostgreSQL database instead.

The measured requests are marked by a call of ``os.getppid()`` before and after them, so
callgrind run with ``--dump-before=getppid`` writes their instructions in a part of their own
(the second), start-up, seeding and warm-up left out; over ``--count`` that is what one
operation costs, every thread of the process included. Without callgrind it prints the
process's CPU time per measured operation.

    valgrind --tool=callgrind --dump-before=getppid --callgrind-out-file=/tmp/cg.out \\
        python -m loadtests.operation_cost --operation read --count 100
    callgrind_annotate /tmp/cg.out.2 | head
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from loadtests.seed import seed_practice, seed_users
from server.app import create_app
from server.persistence.store import open_store
from server.services import Services
from server.settings import Settings

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
WARM_UP = 20
_LIMITLESS = 1e9
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
LIST_USERS = 1_000  # seeded for ``list``, which reads the first page of 100
LIST_PAGE = "?startIndex=1&count=100"


async def call_app(
    app: Any, method: str, path: str, token: str, body: Any = None
) -> tuple[int, Any]:
    """One request straight into the ASGI app (no HTTP client): its status and JSON body."""
    path, _, query = path.partition("?")
    raw = b"" if body is None else json.dumps(body).encode()
    headers = [(b"host", b"bench.local"), (b"authorization", f"Bearer {token}".encode())]
    if body is not None:
        headers += [(b"content-type", b"application/scim+json")]
        headers += [(b"content-length", str(len(raw)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("bench.local", 80),
        "state": {},
    }
    sent = False
    answer: dict[str, Any] = {"status": 0, "body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return answer["status"], json.loads(answer["body"]) if answer["body"] else None


async def _token(database_url: str, settings: Settings, users: int) -> tuple[str, str]:
    store = await open_store(database_url)
    try:
        services = Services.build(store, settings)
        practice_id, _, _ = await seed_practice(services, "Operation cost")
        await seed_users(store, practice_id, users)
        token = await services.practices.create_static_token(practice_id, actor="bench")
    finally:
        await store.close()
    return str(practice_id), token.token


def _user(number: int) -> dict[str, Any]:
    return {"schemas": [USER_SCHEMA], "userName": f"cost{number:06d}@example.org"}


def _patch(number: int) -> dict[str, Any]:
    change = {"op": "replace", "path": "name.givenName", "value": f"Given{number}"}
    return {"schemas": [PATCH_SCHEMA], "Operations": [change]}


async def run(operation: str, count: int, url: str) -> None:
    settings = Settings(
        database_url=url,
        public_url="http://bench.local",
        rate_limit_store="memory",
        scim_rate_limit=_LIMITLESS,
        scim_rate_burst=int(_LIMITLESS),
    )
    practice, token = await _token(url, settings, LIST_USERS if operation == "list" else 0)
    users = f"/scim/v2/{practice}/Users"
    app: Any = create_app(settings)
    async with app.lifespan():
        status, created = await call_app(app, "POST", users, token, _user(0))
        assert status == 201, created
        one = f"{users}/{created['id']}"
        expected = {"read": 200, "create": 201, "patch": 200, "list": 200}[operation]
        started = 0.0
        for number in range(1, WARM_UP + count + 1):
            if number == WARM_UP + 1:
                os.getppid()  # the measured part starts (callgrind --dump-before=getppid)
                started = time.process_time()
            if operation == "read":
                status, body = await call_app(app, "GET", one, token)
            elif operation == "list":
                status, body = await call_app(app, "GET", users + LIST_PAGE, token)
            elif operation == "create":
                status, body = await call_app(app, "POST", users, token, _user(number))
            else:
                status, body = await call_app(app, "PATCH", one, token, _patch(number))
            assert status == expected, body
        os.getppid()  # and ends
        spent = time.process_time() - started
    # CPU time of the whole process (every thread): less exact than instructions, but it
    # does not count the time other processes on the machine take.
    per_operation = round(spent / max(count, 1) * 1e6, 1)
    print(json.dumps({"operation": operation, "count": count, "cpu_us": per_operation}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operation", choices=["read", "create", "patch", "list"], required=True)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    if args.backend == "postgresql":
        asyncio.run(_on_postgres(args.operation, args.count))
        return
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'cost.db'}"
        asyncio.run(run(args.operation, args.count, url))


async def _on_postgres(operation: str, count: int) -> None:
    """``run`` on a fresh PostgreSQL database, dropped afterwards."""
    name = f"scimlab_cost_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        await run(operation, count, POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}")
    finally:
        admin = await asyncpg.connect(POSTGRES_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


if __name__ == "__main__":
    main()
