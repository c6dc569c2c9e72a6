"""Operations in process, for instruction counts: one practice on a fresh database (a
temporary SQLite file, or with ``--backend postgresql`` a throwaway PostgreSQL database dropped
after), then ``--count`` requests of one kind (``read`` by id, ``create``, ``patch``, ``put``,
``filter`` by ``userName eq``, ``list``: a page of 100 of 1,000 seeded users) sent straight
to the ASGI application (no HTTP client, no sockets), each checked for its status;
``--concurrency N`` keeps N of them in flight at once.

The measured requests are marked by a call of ``os.getppid()`` before and after them, so
callgrind run with ``--dump-before=getppid`` writes their instructions in a part of their own
(the second), start-up, seeding and warm-up left out; over ``--count`` that is what one
operation costs, every thread of the process included. The app settles its heap once ready,
as a served worker does (:mod:`server.ops.heap`). The activity log's queue is written
before the closing mark, so its batches are counted whether or not their timer fired inside.
Without callgrind it prints the process's CPU time per measured operation. On PostgreSQL it
then sends ``--count`` more of them, outside the measured part, counting the statements they
send to the server (``round_trips``: the requests' own asyncpg calls, see
:mod:`loadtests.round_trips`; ``background_round_trips``: those of background tasks meanwhile,
the activity log's flush).

    valgrind --tool=callgrind --dump-before=getppid --callgrind-out-file=/tmp/cg.out \\
        python -m loadtests.operation_cost --operation read --count 100 [--backend postgresql]
    callgrind_annotate /tmp/cg.out.2 | head
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections import Counter
from typing import Any

from loadtests.bench.targets import fresh_database
from loadtests.round_trips import counted_round_trips
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
OPERATIONS = ("read", "create", "patch", "put", "filter", "list")
EXPECTED_STATUS = {"read": 200, "create": 201, "patch": 200, "put": 200, "filter": 200, "list": 200}
LIST_USERS = 1_000  # seeded for ``list``, which reads the first page of 100
LIST_PAGE = "startIndex=1&count=100"


async def call_app(
    app: Any,
    method: str,
    path: str,
    token: str,
    body: Any = None,
    *,
    query: str = "",
    headers: tuple[tuple[str, str], ...] = (),
) -> tuple[int, Any]:
    """One request straight into the ASGI app (no HTTP client): its status and JSON body.
    The query is ``query``, or what follows ``?`` in ``path``; ``headers``: more of them."""
    if not query:
        path, _, query = path.partition("?")
    raw = b"" if body is None else json.dumps(body).encode()
    fields = [(b"host", b"bench.local"), (b"authorization", f"Bearer {token}".encode())]
    fields += [(name.lower().encode(), value.encode()) for name, value in headers]
    if body is not None:
        fields += [(b"content-type", b"application/scim+json")]
        fields += [(b"content-length", str(len(raw)).encode())]
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
        "headers": fields,
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


def _replacement(number: int) -> dict[str, Any]:
    name = {"givenName": f"Given{number}", "familyName": "Replaced"}
    return {"schemas": [USER_SCHEMA], "userName": "cost000000@example.org", "name": name}


async def _one(app: Any, operation: str, *, users: str, one: str, token: str, number: int) -> None:
    """One request of ``operation``; ``one`` is the user read and changed."""
    if operation == "read":
        status, body = await call_app(app, "GET", one, token)
    elif operation == "create":
        status, body = await call_app(app, "POST", users, token, _user(number))
    elif operation == "patch":
        status, body = await call_app(app, "PATCH", one, token, _patch(number))
    elif operation == "put":
        status, body = await call_app(app, "PUT", one, token, _replacement(number))
    elif operation == "list":
        status, body = await call_app(app, "GET", users, token, query=LIST_PAGE)
    else:
        wanted = "filter=userName%20eq%20%22cost000000%40example.org%22"
        status, body = await call_app(app, "GET", users, token, query=wanted)
        assert body["totalResults"] == 1, body
    assert status == EXPECTED_STATUS[operation], body


async def run(
    operation: str, count: int, url: str, *, show_statements: bool = False, concurrency: int = 1
) -> None:
    settings = Settings(
        database_url=url,
        public_url="http://bench.local",
        rate_limit_store="memory",
        scim_rate_limit=_LIMITLESS,
        scim_rate_burst=int(_LIMITLESS),
    )
    practice, token = await _token(url, settings, LIST_USERS if operation == "list" else 0)
    users = f"/scim/v2/{practice}/Users"
    # Settled as a served worker's heap is (``serve_app``): without it, full collections of
    # the startup heap land in the measured part, which a served worker never pays.
    app: Any = create_app(settings, settle=True)
    round_trips: dict[str, float] | None = None
    async with app.lifespan():
        status, created = await call_app(app, "POST", users, token, _user(0))
        assert status == 201, created
        one = f"{users}/{created['id']}"
        for number in range(1, WARM_UP + 1):
            await _one(app, operation, users=users, one=one, token=token, number=number)
        os.getppid()  # the measured part starts (callgrind --dump-before=getppid)
        started = time.process_time()
        numbers = iter(range(WARM_UP + 1, WARM_UP + count + 1))

        async def worker() -> None:
            for number in numbers:
                await _one(app, operation, users=users, one=one, token=token, number=number)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        recorder = getattr(app.state, "activity_recorder", None)
        if recorder is not None:  # what the activity log still holds is part of the cost
            await recorder.flush()
        os.getppid()  # and ends
        spent = time.process_time() - started
        if not url.startswith("sqlite"):
            with counted_round_trips() as sent:
                for number in range(WARM_UP + count + 1, WARM_UP + 2 * count + 1):
                    await _one(app, operation, users=users, one=one, token=token, number=number)
            own, background = sent.by(asyncio.current_task()), sent.not_by(asyncio.current_task())
            round_trips = {
                "round_trips": round(len(own) / max(count, 1), 2),
                "background_round_trips": round(len(background) / max(count, 1), 2),
            }
            if show_statements:
                for text, times in Counter(own).most_common():
                    print(f"{times / max(count, 1):6.2f}  {' '.join(text.split())[:160]}")
    # CPU time of the whole process (every thread): less exact than instructions, but it
    # does not count the time other processes on the machine take.
    per_operation = round(spent / max(count, 1) * 1e6, 1)
    figures: dict[str, Any] = {"operation": operation, "count": count, "cpu_us": per_operation}
    figures |= round_trips or {}
    print(json.dumps(figures))


async def _run_on(arguments: argparse.Namespace) -> None:
    async with fresh_database(arguments.backend, arguments.postgres_url) as url:
        await run(
            arguments.operation,
            arguments.count,
            url,
            show_statements=arguments.statements,
            concurrency=arguments.concurrency,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operation", choices=OPERATIONS, required=True)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument(
        "--concurrency", type=int, default=1, help="requests in flight at once (measured part)"
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument(
        "--statements", action="store_true", help="print each statement sent per operation"
    )
    asyncio.run(_run_on(parser.parse_args()))


if __name__ == "__main__":
    main()
