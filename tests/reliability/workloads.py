"""Workloads shared by in-process and real-socket tests: an identity provider onboarding a
directory (lookup, then create), and many clients racing on overlapping users."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from tests.reliability.support import PATCH_SCHEMA, user_body

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


def directory(size: int) -> list[dict[str, Any]]:
    """The identity provider's side: every attribute the platform keeps, per person."""
    return [
        user_body(
            f"person{i:05d}@clinic.example",
            name={"givenName": f"Given{i}", "familyName": f"Family{i}"},
            emails=[{"value": f"person{i:05d}@clinic.example", "type": "work", "primary": True}],
            phoneNumbers=[{"value": f"+1 555 {i:07d}", "type": "mobile"}],
            externalId=f"ext-{i}",
            active=True,
        )
        for i in range(size)
    ]


@dataclass
class Onboarding:
    acknowledged: dict[str, str] = field(default_factory=dict)  # userName -> id answered 201
    found: set[str] = field(default_factory=set)  # already there at lookup
    interrupted: int = 0
    on_acknowledged: Callable[[], object] = lambda: None


async def onboard(
    http: httpx.AsyncClient,
    scim_url: str,
    headers: dict[str, str],
    people: Sequence[dict[str, Any]],
    log: Onboarding,
    *,
    concurrency: int = 8,
) -> None:
    """Entra's shape: look each person up by userName, create those not found. Workers stop
    at the first transport error (the server died)."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for person in people:
        queue.put_nowait(person)

    async def worker() -> None:
        while not queue.empty():
            person = queue.get_nowait()
            name = person["userName"]
            try:
                found = await http.get(
                    f"{scim_url}/Users",
                    params={"filter": f'userName eq "{name}"'},
                    headers=headers,
                )
                assert found.status_code == 200, found.text
                if found.json()["totalResults"]:
                    log.found.add(name)
                    continue
                created = await http.post(f"{scim_url}/Users", json=person, headers=headers)
            except httpx.TransportError:
                log.interrupted += 1
                return
            if created.status_code == 201:
                log.acknowledged[name] = created.json()["id"]
                log.on_acknowledged()
            else:
                assert created.status_code == 409, created.text

    await asyncio.gather(*[worker() for _ in range(concurrency)])


@dataclass
class RaceLog:
    created: dict[str, str] = field(default_factory=dict)  # id -> userName
    deleted: set[str] = field(default_factory=set)
    increments: dict[str, list[int]] = field(default_factory=dict)  # id -> counters written
    statuses: dict[int, int] = field(default_factory=dict)

    def count(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


async def race(
    http: httpx.AsyncClient,
    scim_urls: Sequence[str],
    headers: dict[str, str],
    *,
    clients: int = 50,
    names: int = 20,
    seconds: float = 6.0,
    seed: int = 8,
) -> RaceLog:
    """``clients`` clients create, increment (read, then PATCH with If-Match) and delete
    users drawn from ``names`` overlapping userNames, until ``seconds`` have passed."""
    log = RaceLog()
    deadline = time.monotonic() + seconds
    pool = [f"racer{i:02d}@clinic.example" for i in range(names)]

    async def client(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        scim = scim_urls[number % len(scim_urls)]
        while time.monotonic() < deadline:
            name = rng.choice(pool)
            action = rng.choices(["create", "increment", "delete"], weights=[3, 6, 1])[0]
            if action == "create":
                body = user_body(name, name={"givenName": "0", "familyName": "Racer"})
                response = await http.post(f"{scim}/Users", json=body, headers=headers)
                log.count(response.status_code)
                if response.status_code == 201:
                    log.created[response.json()["id"]] = name
                continue
            found = await http.get(
                f"{scim}/Users", params={"filter": f'userName eq "{name}"'}, headers=headers
            )
            log.count(found.status_code)
            resources = found.json().get("Resources", [])
            if not resources:
                continue
            user = resources[0]
            if action == "delete":
                response = await http.delete(f"{scim}/Users/{user['id']}", headers=headers)
                log.count(response.status_code)
                if response.status_code == 204:
                    log.deleted.add(user["id"])
                continue
            value = int(user["name"]["givenName"]) + 1
            response = await http.patch(
                f"{scim}/Users/{user['id']}",
                json={
                    "schemas": [PATCH_SCHEMA],
                    "Operations": [
                        {"op": "replace", "path": "name.givenName", "value": str(value)}
                    ],
                },
                headers={**headers, "If-Match": user["meta"]["version"]},
            )
            log.count(response.status_code)
            if response.status_code == 200:
                log.increments.setdefault(user["id"], []).append(value)

    await asyncio.gather(*[client(n) for n in range(clients)])
    return log


async def live_users(
    http: httpx.AsyncClient, scim_url: str, headers: dict[str, str]
) -> list[dict[str, Any]]:
    users: list[dict[str, Any]] = []
    start = 1
    while True:
        page = await http.get(
            f"{scim_url}/Users", params={"startIndex": start, "count": 500}, headers=headers
        )
        assert page.status_code == 200, page.text
        body = page.json()
        users += body.get("Resources", [])
        if start + body["itemsPerPage"] > body["totalResults"] or not body["itemsPerPage"]:
            return users
        start += body["itemsPerPage"]


def check_race(log: RaceLog, users: list[dict[str, Any]]) -> dict[str, int]:
    """No duplicate userNames, no lost update, totals consistent with the log."""
    names = [u["userName"].casefold() for u in users]
    assert len(names) == len(set(names)), "duplicate userNames"
    assert not [s for s in log.statuses if s >= 500], log.statuses
    live = {u["id"]: u for u in users}
    assert set(live) == set(log.created) - log.deleted, "live users differ from the log"
    for user_id, written in log.increments.items():
        # Every acknowledged write read the value the previous one wrote: 1, 2, 3, ...
        assert sorted(written) == list(range(1, len(written) + 1)), (user_id, written)
        if user_id in live:
            assert live[user_id]["name"]["givenName"] == str(len(written)), user_id
    for user_id, user in live.items():
        assert user["name"]["givenName"] == str(len(log.increments.get(user_id, [])))
    return {
        "requests": sum(log.statuses.values()),
        "created": len(log.created),
        "deleted": len(log.deleted),
        "increments": sum(len(v) for v in log.increments.values()),
        "conflicts_412": log.statuses.get(412, 0),
        "conflicts_409": log.statuses.get(409, 0),
        "live": len(live),
    }
