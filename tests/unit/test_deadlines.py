"""The request deadline of the edge (``server.ops.deadlines``): a request that has not started
its response by its deadline gets 503; nothing else is cut or rewritten."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from server.ops.deadlines import Deadlines
from server.ops.edge import EdgeMiddleware
from tests.unit.edge_exchange import through_edge

DEADLINE = 0.2


async def _answer(send: Any, status: int = 200, body: bytes = b'{"ok": true}') -> None:
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _app(*, before: float = 0.0, after: float = 0.0, raises: BaseException | None = None) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(before)
        if raises is not None:
            raise raises
        if after:
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await asyncio.sleep(after)
            await send({"type": "http.response.body", "body": b"{}", "more_body": False})
            return
        await _answer(send)

    return app


async def _call(edge: EdgeMiddleware, path: str = "/scim/v2/p/Users") -> tuple[int, bytes, float]:
    started = time.monotonic()
    sent = await through_edge(edge, path)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body, time.monotonic() - started


def _edge(app: Any) -> EdgeMiddleware:
    return EdgeMiddleware(app, deadline_seconds=DEADLINE, hsts=False)


async def test_a_request_past_its_deadline_gets_503_in_its_endpoints_error_shape() -> None:
    edge = _edge(_app(before=5.0))
    status, body, seconds = await _call(edge)
    assert status == 503
    error = json.loads(body)
    assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert "took too long" in error["detail"]
    # Cut after the deadline and within one sweep period (deadline / 8) and some scheduling.
    assert DEADLINE <= seconds < DEADLINE * 2.5
    status, body, _ = await _call(edge, "/oauth/token")
    assert (status, json.loads(body)["error"]) == (503, "temporarily_unavailable")


async def test_a_request_that_answers_in_time_is_untouched_and_leaves_nothing_behind() -> None:
    edge = _edge(_app(before=DEADLINE / 4))
    results = await asyncio.gather(*(_call(edge) for _ in range(20)))
    assert [(status, body) for status, body, _ in results] == [(200, b'{"ok": true}')] * 20
    assert edge._deadlines.in_flight == 0
    await asyncio.sleep(DEADLINE / 4)  # two sweep periods: a sweep sees nothing and stops
    assert not edge._deadlines.sweeping


async def test_a_response_already_started_is_not_cut() -> None:
    status, body, seconds = await _call(_edge(_app(after=DEADLINE * 2)))
    assert (status, body) == (200, b"{}")
    assert seconds >= DEADLINE * 2


async def test_only_the_slow_requests_of_many_in_flight_are_cut() -> None:
    fast, slow = _app(before=0.01), _app(before=5.0)

    async def either(scope: Any, receive: Any, send: Any) -> None:
        await (slow if scope["path"].endswith("slow") else fast)(scope, receive, send)

    edge = _edge(either)
    paths = ["/scim/slow" if i % 3 == 0 else "/scim/fast" for i in range(30)]
    results = await asyncio.gather(*(_call(edge, path) for path in paths))
    statuses = [status for status, _, _ in results]
    assert statuses == [503 if path.endswith("slow") else 200 for path in paths]
    assert edge._deadlines.in_flight == 0


async def test_a_cancellation_from_elsewhere_is_not_turned_into_503() -> None:
    edge = _edge(_app(before=5.0))
    request = asyncio.create_task(_call(edge))
    await asyncio.sleep(DEADLINE / 4)
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    assert edge._deadlines.in_flight == 0


async def test_the_apps_own_timeout_error_is_not_the_deadline() -> None:
    edge = _edge(_app(raises=TimeoutError("the database's own timeout")))
    with pytest.raises(TimeoutError, match="database"):
        await _call(edge)


async def test_a_sweep_cuts_nothing_on_a_loop_it_no_longer_serves() -> None:
    deadlines = Deadlines(0.01)
    entry = deadlines.enter()
    deadlines._loop = None  # as after the app moved to another loop
    await asyncio.sleep(0.05)
    assert not entry.expired
    deadlines.stop(entry)
    assert deadlines.in_flight == 0
