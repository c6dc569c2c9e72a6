"""The recorder's bounds, without a database: a full queue drops new exchanges and counts
them; bodies past the byte budget are not held (the entry stays, without attribute names);
a request to a practice the database does not know is not written."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID, uuid4

from server.activity.observe import Seen
from server.activity.recorder import ActivityRecorder
from server.domain.clock import utcnow

KNOWN = uuid4()


class FakeLog:
    def __init__(self) -> None:
        self.written: list[Any] = []

    async def existing_practices(self, ids: set[UUID]) -> set[UUID]:
        return ids & {KNOWN}

    async def tokens(self, hashes: set[str]) -> dict[str, Any]:
        return {}

    async def client_ids(self, ids: set[UUID]) -> dict[UUID, str]:
        return {}

    async def staff_names(self, practice: UUID, ids: set[UUID]) -> dict[UUID, str]:
        return {}

    async def known_names(self, practice: UUID, ids: set[UUID]) -> dict[UUID, str]:
        return {}

    async def add_many(self, entries: list[Any]) -> None:
        self.written += entries


def _seen(practice: UUID, body: dict[str, Any] | None = None) -> Seen:
    return Seen(
        at=utcnow(), method="POST", path=f"/scim/v2/{practice}/Users",
        route="/scim/v2/{practice_id:uuid}/Users", status=201, request_id="r", user_agent="t",
        bearer_hash=None, basic_client=None, location=None,
        request_body=json.dumps(body).encode() if body else None, response_body=None,
    )  # fmt: skip


async def test_bounds_and_unknown_practices() -> None:
    log = FakeLog()
    recorder = ActivityRecorder(log, capacity=3, body_budget=60)  # type: ignore[arg-type]
    recorder.add(_seen(KNOWN, {"userName": "a"}))  # 19 bytes: held
    recorder.add(_seen(KNOWN, {"userName": "b", "externalId": "x" * 50}))  # past the budget
    recorder.add(_seen(uuid4(), {"userName": "c"}))  # a practice nobody has
    recorder.add(_seen(KNOWN))  # the queue is full
    assert recorder.dropped == 1
    assert await recorder.flush() == 2
    assert [e.attributes for e in log.written] == [("userName",), ()]
    assert all(e.practice_id == KNOWN for e in log.written)
