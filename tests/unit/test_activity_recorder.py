"""The recorder's bounds, without a database: a full queue drops new exchanges and counts
them; bodies past the byte budget are not held (the entry stays, without attribute names);
a request to a practice the database does not know is not written; a batch is at most
``batch`` entries; a clean stop writes everything queued, a batch under way included."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID, uuid4

from server.activity.observe import Seen
from server.activity.recorder import ActivityRecorder
from server.domain.clock import utcnow

KNOWN = uuid4()


class FakeLog:
    def __init__(self, *, pause: asyncio.Event | None = None) -> None:
        self.written: list[Any] = []
        self.batches: list[int] = []
        self.pause = pause
        self.writing = asyncio.Event()
        self.named: list[set[UUID]] = []

    async def practices(
        self, ids: set[UUID], hashes: set[str]
    ) -> tuple[dict[UUID, str | None], dict[str, Any]]:
        return dict.fromkeys(ids & {KNOWN}), {}

    async def staff_names(self, practice: UUID, ids: set[UUID]) -> dict[UUID, str]:
        self.named.append(ids)
        return dict.fromkeys(ids, "Dana Lee")

    async def group_names(self, practice: UUID, ids: set[UUID]) -> dict[UUID, str]:
        return {}

    async def known_names(self, practice: UUID, ids: set[UUID]) -> dict[UUID, str]:
        return {}

    async def add_rows(self, rows: list[Any]) -> None:
        self.writing.set()
        if self.pause is not None:
            await self.pause.wait()  # a slow database: the write is under way
        self.batches.append(len(rows))
        self.written += rows


def _seen(practice: UUID, body: dict[str, Any] | None = None) -> Seen:
    return Seen(
        at=utcnow(), method="POST", path=f"/scim/v2/{practice}/Users",
        route="/scim/v2/{practice_id:uuid}/Users", status=201, request_id="r", user_agent="t",
        bearer_hash=None, basic_client=None, location=None,
        request_body=json.dumps(body).encode() if body else None, error_body=None,
    )  # fmt: skip


ATTRIBUTES = -1  # the row's last column: attribute names, comma-separated


async def test_bounds_and_unknown_practices() -> None:
    log = FakeLog()
    recorder = ActivityRecorder(log, capacity=3, body_budget=60)  # type: ignore[arg-type]
    recorder.add(_seen(KNOWN, {"userName": "a"}))  # 19 bytes: held
    recorder.add(_seen(KNOWN, {"userName": "b", "externalId": "x" * 50}))  # past the budget
    recorder.add(_seen(uuid4(), {"userName": "c"}))  # a practice nobody has
    recorder.add(_seen(KNOWN))  # the queue is full
    assert recorder.dropped == 1
    assert await recorder.flush() == 2
    assert [row[ATTRIBUTES] for row in log.written] == ["userName", ""]
    assert all(row[1] == KNOWN for row in log.written)


async def test_a_batch_is_at_most_batch_entries() -> None:
    log = FakeLog()
    recorder = ActivityRecorder(log, batch=4)  # type: ignore[arg-type]
    for n in range(10):
        recorder.add(_seen(KNOWN, {"userName": f"u{n}"}))
    assert await recorder.flush() == 10
    assert log.batches == [4, 4, 2]
    assert [row[6] for row in log.written] == ["user.create"] * 10


async def test_a_clean_stop_writes_everything_queued() -> None:
    pause = asyncio.Event()
    log = FakeLog(pause=pause)
    recorder = ActivityRecorder(log, interval=0.01, batch=5)  # type: ignore[arg-type]
    recorder.start()
    for n in range(5):
        recorder.add(_seen(KNOWN, {"userName": f"first{n}"}))  # a full batch wakes the task
    await asyncio.wait_for(log.writing.wait(), 5)  # its write is under way, held
    for n in range(7):
        recorder.add(_seen(KNOWN, {"userName": f"later{n}"}))
    stopping = asyncio.ensure_future(recorder.stop())
    await asyncio.sleep(0)
    pause.set()
    await asyncio.wait_for(stopping, 5)
    assert len(log.written) == 12
    assert sorted(log.batches) == [2, 5, 5]


async def test_only_a_deleted_account_is_named_when_written() -> None:
    log = FakeLog()
    recorder = ActivityRecorder(log)  # type: ignore[arg-type]
    kept, gone = uuid4(), uuid4()
    for method, staff in (("GET", kept), ("PATCH", kept), ("DELETE", gone)):
        path = f"/scim/v2/{KNOWN}/Users/{staff}"
        route = "/scim/v2/{practice_id:uuid}/Users/{user_id:str}"
        recorder.add(_seen(KNOWN)._replace(method=method, path=path, route=route, status=200))
    assert await recorder.flush() == 3
    assert log.named == [{gone}]  # the others are named when the log is read
    assert [(row[6], row[-2]) for row in log.written] == [
        ("user.read", None),
        ("user.update", None),
        ("user.delete", "Dana Lee"),
    ]


async def test_what_comes_in_during_a_write_waits_for_the_next_batch() -> None:
    """Under steady traffic a flush ends: requests queued while it writes are not written as
    batches of their own (each a statement or more) but with the next batch."""
    pause = asyncio.Event()
    log = FakeLog(pause=pause)
    recorder = ActivityRecorder(log, batch=5)  # type: ignore[arg-type]
    for n in range(7):
        recorder.add(_seen(KNOWN, {"userName": f"first{n}"}))
    flushing = asyncio.ensure_future(recorder.flush())
    await asyncio.wait_for(log.writing.wait(), 5)  # the first batch's write is under way
    for n in range(3):
        recorder.add(_seen(KNOWN, {"userName": f"during{n}"}))
    pause.set()
    assert await asyncio.wait_for(flushing, 5) == 7
    assert log.batches == [5, 2]
    assert recorder.queued == 3
    assert await recorder.flush() == 3
    assert log.batches == [5, 2, 3]
