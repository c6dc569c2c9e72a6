"""Sync cycles with several objects in flight, against ``scimlab serve`` on loopback.

Litestar's in-process test client runs one request at a time, so concurrency is tested over
a real socket: the server is ``scimlab serve`` on a fresh SQLite database, reached through
the simulator's own ``lean_transport`` wrapped in a ``Gate`` that counts requests in flight
and can refuse chosen ones, so a failure lands on the same objects whatever order the
workers reach them in.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from loadtests.bench.servers import UNLIMITED, free_port, scimlab_command, serve
from loadtests.bench.targets import fresh_database
from loadtests.fleet import seed_fleet
from server.settings import Settings
from simulators.core import builders
from simulators.core.auth import Credentials
from simulators.core.clock import RealClock
from simulators.core.directory import Directory
from simulators.core.registry import make_dialect
from simulators.core.runner import Target, run_scenario
from simulators.core.scenario import Scenario, expect, scenario, step
from simulators.core.transport import lean_transport
from tests.conftest import POSTGRES_URL

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from simulators.core.runner import RunResult

pytestmark = pytest.mark.socket

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
State = tuple[list[Any], list[Any]]
Practice = dict[str, Any]


@pytest.fixture(scope="module")
async def practices() -> AsyncIterator[list[Practice]]:
    """Fresh practices on one ``scimlab serve``; each test takes its own."""
    async with fresh_database("sqlite", POSTGRES_URL) as url:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        fleet = await seed_fleet(Settings(database_url=url, public_url=base), 8, 0)
        env = {"SCIMLAB_DATABASE_URL": url, "SCIMLAB_PUBLIC_URL": base, **UNLIMITED}
        command = scimlab_command(port)
        with serve("scimlab", command, port=port, probe="/healthz", base_path="", env=env):
            yield fleet


def _target(practice: Practice, http: httpx.AsyncClient) -> Target:
    credentials = Credentials(
        "oauth",
        token_url=practice["token_url"],
        client_id=practice["client_id"],
        client_secret=practice["client_secret"],
    )
    return Target(practice["scim_url"], http, credentials)


class Gate(httpx.AsyncBaseTransport):
    """The app, with requests in flight counted and some refused or throttled."""

    def __init__(self) -> None:
        self.inner = lean_transport(httpx.Limits(max_connections=16))
        self.in_flight = self.peak = 0
        self.refuse_once: set[str] = set()  # userNames whose first POST gets a 400
        self.throttle: dict[int, float] = {}  # nth SCIM POST -> 429 with this Retry-After
        self.posts = 0
        self.entered: list[tuple[float, str, int]] = []  # (monotonic, method, status)

    def _verdict(self, request: httpx.Request) -> httpx.Response | None:
        if request.method != "POST" or not request.url.path.endswith("/Users"):
            return None
        self.posts += 1
        if self.posts in self.throttle:
            headers = {"Retry-After": f"{self.throttle[self.posts]:g}"}
            return httpx.Response(429, json={"status": "429"}, headers=headers)
        name = str(json.loads(request.content)["userName"])
        if name in self.refuse_once:
            self.refuse_once.discard(name)
            body = {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "400",
                "scimType": "invalidValue",
                "detail": "refused by the test",
            }
            return httpx.Response(400, json=body)
        return None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0)  # let every worker that can send reach the gate
            answer = self._verdict(request)
            if answer is None:
                answer = await self.inner.handle_async_request(request)
            self.entered.append((time.monotonic(), request.method, answer.status_code))
            return answer
        finally:
            self.in_flight -= 1


def _scenario(users: int) -> Scenario:
    return Scenario.from_dict(
        scenario(
            "concurrency",
            "people and a group, two of them refused once, then a retry cycle",
            [
                step("add_people", count=users),
                step("add_group", key="front", name="Front Desk", members=["user0", "user5"]),
                step("cycle", id="first"),
                step("cycle", id="retry"),
            ],
            [expect("users_in_sync", "in-sync"), expect("groups_in_sync", "groups")],
        )
    )


async def _run(
    practice: Practice,
    concurrency: int,
    *,
    users: int = 12,
    refuse: tuple[str, ...] = (),
) -> tuple[RunResult, Gate, State]:
    gate = Gate()
    people = Directory()
    people.add_generated(users, prefix="user", start=0, domain="example.org")
    gate.refuse_once = {people.person(key).user_name for key in refuse}
    async with httpx.AsyncClient(transport=gate) as http:
        dialect = make_dialect("entra").with_changes(concurrency=concurrency)
        result = await run_scenario(_scenario(users), dialect, _target(practice, http))
        state = await _server_state(result)
    return result, gate, state


async def _server_state(result: RunResult) -> State:
    """Users and groups as the server holds them, ids replaced by userNames."""
    engine = result.sync.engine
    users = (await engine.send(builders.list_users(1, 200))).resources
    names = {u["id"]: u["userName"] for u in users}
    people = sorted(
        (
            u["userName"],
            u.get("active"),
            u.get("displayName"),
            json.dumps(u.get("name"), sort_keys=True),
            json.dumps(u.get("emails"), sort_keys=True),
            names.get(((u.get(ENTERPRISE) or {}).get("manager") or {}).get("value")),
        )
        for u in users
    )
    listing = builders.ScimRequest("GET", "/Groups", "check.groups")
    groups = sorted(
        (g["displayName"], sorted(names[m["value"]] for m in g.get("members") or []))
        for g in (await engine.send(listing)).resources
    )
    return people, groups


def _report(result: RunResult) -> list[Any]:
    """What a run reports, in the order it reports it."""
    cycles = [
        (c.kind, c.processed, [(k, f.status, f.attempts, f.detail) for k, f in c.failures.items()])
        for c in result.sync.cycles
    ]
    checks = [(r.id, r.status, r.detail) for r in result.results]
    return [cycles, checks, list(result.sync.escrow)]


async def test_a_concurrent_run_ends_where_a_sequential_one_does(
    practices: list[Practice],
) -> None:
    refused = ("user3", "user8")
    sequential, _, held = await _run(practices.pop(), 1, refuse=refused)
    parallel, gate, held_too = await _run(practices.pop(), 6, refuse=refused)

    assert gate.peak > 1  # the second run really had objects in flight together
    first = sequential.sync.cycles[0]
    assert list(first.failures) == ["user:user3", "user:user8"]
    assert [f.status for f in first.failures.values()] == [400, 400]
    assert sequential.sync.cycles[1].failures == {}
    assert _report(parallel) == _report(sequential)
    assert held_too == held
    people, groups = held
    assert len(people) == 12
    directory = sequential.sync.directory
    members = sorted(directory.person(k).user_name for k in ("user0", "user5"))
    assert groups == [("Front Desk", members)]

    def shape(result: RunResult) -> Counter[tuple[str, str, int | None]]:
        return Counter((e.label, e.method, e.status) for e in result.recorder.exchanges)

    assert shape(parallel) == shape(sequential)


async def test_a_failure_under_concurrency_is_escrowed_and_retried(
    practices: list[Practice],
) -> None:
    result, _, _ = await _run(practices.pop(), 4, refuse=("user2", "user6", "user9"))
    first, retry = result.sync.cycles
    assert list(first.failures) == ["user:user2", "user:user6", "user:user9"]
    assert first.processed == 13  # 12 people and the group
    assert list(retry.failures) == []
    assert retry.processed == 3  # only the escrowed objects came back
    assert result.sync.escrow == {}
    in_sync = next(r for r in result.results if r.id == "concurrency.in-sync")
    assert in_sync.status == "passed", in_sync.detail


@pytest.mark.parametrize("limit", [1, 3])
async def test_objects_in_flight_never_exceed_the_limit(
    practices: list[Practice], limit: int
) -> None:
    result, gate, _ = await _run(practices.pop(), limit, users=15)
    assert result.sync.cycles[0].failures == {}
    assert gate.peak == limit  # reached, and never passed, in the cycle and the checks


async def test_retry_after_pauses_every_object_in_flight(practices: list[Practice]) -> None:
    gate = Gate()
    gate.throttle = {4: 0.6}
    async with httpx.AsyncClient(transport=gate) as http:
        target = _target(practices.pop(), http)
        dialect = make_dialect("entra").with_changes(concurrency=4)
        scene = Scenario.from_dict(
            scenario("throttled", "t", [step("add_people", count=10), step("cycle")], [])
        )
        result = await run_scenario(scene, dialect, target, clock=RealClock())
    assert result.sync.cycles[0].failures == {}
    assert result.sync.engine.waits == [0.6]
    [throttled] = [t for t, _, status in gate.entered if status == 429]
    later = [t - throttled for t, _, _ in gate.entered if t > throttled]
    # Requests already on their way when the 429 came back may still arrive; nothing new
    # starts until the Retry-After has passed, and then the work goes on.
    assert not [d for d in later if 0.2 < d < 0.55]
    assert any(d >= 0.6 for d in later)
