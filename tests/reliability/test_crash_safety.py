"""Crash safety: SIGKILL ``scimlab serve`` in the middle of an identity provider's
onboarding, restart it, let the onboarding finish. Every user the server answered 201 for
exists exactly once with that id, none is half-written, and the final state is the
directory. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.reliability.support import (
    DUPLICATE_NAMES,
    UNLIMITED_ENV,
    Server,
    bearer,
    enable_practice,
    fresh_database,
    query,
    sized,
)
from tests.reliability.workloads import Onboarding, directory, onboard

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.reliability

USERS = sized(1000, 5000)
KILL_AT = 0.4  # fraction of the directory acknowledged when the server dies

ROWS = """
SELECT id, user_name, given_name, family_name, email, cell_phone, external_id, active
FROM staff_user WHERE scim_provisioned AND NOT scim_deleted AND practice_id = '{practice}'
"""


async def _onboard_until_killed(
    server: Server, credentials: dict[str, str], people: list[dict[str, Any]]
) -> Onboarding:
    log = Onboarding()
    async with httpx.AsyncClient(timeout=30) as http:
        token = await bearer(http, server.base + "/oauth/token", credentials)
        headers = {"Authorization": f"Bearer {token}"}
        halfway = asyncio.Event()
        log.on_acknowledged = lambda: (
            halfway.set() if len(log.acknowledged) >= KILL_AT * len(people) else None
        )
        run = asyncio.create_task(
            onboard(http, credentials["scim_endpoint_url"], headers, people, log)
        )
        await halfway.wait()
        await asyncio.to_thread(server.kill)
        await run
    return log


def _expected_row(person: dict[str, Any]) -> tuple[Any, ...]:
    return (
        person["userName"],
        person["name"]["givenName"],
        person["name"]["familyName"],
        person["emails"][0]["value"],
        person["phoneNumbers"][0]["value"],
        person["externalId"],
    )


async def test_sigkill_mid_onboarding_loses_nothing(backend: str, tmp_path: Path) -> None:
    people = directory(USERS)
    async with fresh_database(backend, tmp_path) as url:
        server = Server(url, tmp_path / "serve.log", extra_env=UNLIMITED_ENV)
        credentials = enable_practice(server.env)
        started = time.perf_counter()
        server.start()
        first = await _onboard_until_killed(server, credentials, people)
        killed_after = time.perf_counter() - started
        assert first.interrupted > 0  # the kill really cut requests short

        server.start()  # same port, same database: the restart the identity provider sees
        second = Onboarding()
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                token = await bearer(http, server.base + "/oauth/token", credentials)
                await onboard(
                    http,
                    credentials["scim_endpoint_url"],
                    {"Authorization": f"Bearer {token}"},
                    people,
                    second,
                )
        finally:
            server.stop()
        total = time.perf_counter() - started

        rows = await query(url, ROWS.format(practice=credentials["practice_id"]))
        duplicates = await query(url, DUPLICATE_NAMES)
    by_name = {row[1]: row for row in rows}
    assert duplicates == []
    assert len(rows) == len(by_name) == USERS  # exactly once each, nothing extra
    # Every 201 of either run is there, under the id the server answered.
    for name, user_id in {**first.acknowledged, **second.acknowledged}.items():
        assert str(by_name[name][0]) == user_id, name
    # None half-written: every row holds every attribute the directory sent.
    for person in people:
        row = by_name[person["userName"]]
        assert row[1:7] == _expected_row(person), row
        assert row[7] in (True, 1)
    # The restarted server found what the killed one had acknowledged.
    assert set(first.acknowledged) <= second.found
    print(
        f"\ncrash on {backend}: {USERS} users; killed after {len(first.acknowledged)} "
        f"acknowledged ({killed_after:.1f} s, {first.interrupted} requests cut); "
        f"restart created {len(second.acknowledged)}, found {len(second.found)}; "
        f"{total:.1f} s in all"
    )
