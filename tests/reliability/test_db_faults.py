"""Database faults: requests fail fast with 503 and the endpoint's error body (never a hang
past the configured timeout, never a 500 with a trace), and the service recovers by itself.

PostgreSQL is shared with other tests, so it is never stopped: the outage is this test's
database refusing connections with its sessions terminated (as an operator or a failover
would), and a hang is a table lock that another session holds.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from typing import TYPE_CHECKING

import asyncpg
import pytest

from tests.conftest import POSTGRES_URL, fetch_token, new_practice
from tests.reliability.support import (
    assert_api_error,
    assert_oauth_error,
    assert_scim_error,
    deployment,
    user_body,
)

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    from tests.conftest import PracticeFixture
    from tests.reliability.support import Deployment

pytestmark = pytest.mark.reliability

TIMEOUT = 2.0  # the configured database timeout in these tests
SLACK = 1.5  # scheduling on a busy 2-core machine


async def _timed(call: asyncio.Future[httpx.Response] | object) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = await call  # type: ignore[misc]
    return response, time.perf_counter() - started


async def _every_endpoint(
    d: Deployment, practice: PracticeFixture, token: str
) -> list[tuple[str, httpx.Response, float]]:
    headers = {"Authorization": f"Bearer {token}"}
    calls = {
        "scim-list": d.client.get(f"{practice.scim_path}/Users", headers=headers),
        # a read by id is answered by the edge's fast route (server.scim.fast_routes)
        "scim-read": d.client.get(f"{practice.scim_path}/Users/{uuid.uuid4()}", headers=headers),
        "scim-create": d.client.post(
            f"{practice.scim_path}/Users", json=user_body("late@x.org"), headers=headers
        ),
        "token": d.client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": practice.client_id,
                "client_secret": practice.client_secret,
            },
        ),
        "management": d.client.get(practice.management_path, headers=practice.admin_headers),
    }
    results = []
    for name, call in calls.items():
        response, seconds = await _timed(call)
        results.append((name, response, seconds))
    return results


def _assert_unavailable(results: list[tuple[str, httpx.Response, float]], limit: float) -> None:
    for name, response, seconds in results:
        assert response.status_code == 503, (name, response.text)
        assert seconds < limit, (name, seconds)
        assert response.headers["retry-after"]
        if name.startswith("scim"):
            assert_scim_error(response, 503)
        elif name == "token":
            assert_oauth_error(response, 503)
        else:
            assert_api_error(response)


async def _recovers(d: Deployment, practice: PracticeFixture, token: str) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < 15:
        response = await d.client.get(
            f"{practice.scim_path}/Users", headers={"Authorization": f"Bearer {token}"}
        )
        if response.status_code == 200:
            return time.perf_counter() - started
        assert response.status_code == 503, response.text
        await asyncio.sleep(0.2)
    raise AssertionError("the service did not recover")


async def test_postgres_outage_answers_503_then_recovers(tmp_path: Path) -> None:
    async with deployment(
        "postgresql", tmp_path, database_timeout_seconds=TIMEOUT, request_timeout_seconds=5.0
    ) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        token = await fetch_token(d.client, practice)
        headers = {"Authorization": f"Bearer {token}"}
        kept = await d.client.post(
            f"{practice.scim_path}/Users", json=user_body("kept@x.org"), headers=headers
        )
        assert kept.status_code == 201
        name = d.url.rsplit("/", 1)[1]
        admin = await asyncpg.connect(POSTGRES_URL)
        try:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            for _ in range(2):  # dead pooled connections first, then refused new ones
                results = await _every_endpoint(d, practice, token)
                _assert_unavailable(results, TIMEOUT + SLACK)
            assert (await d.client.get("/readyz")).status_code == 503
            worst = max(seconds for _, _, seconds in results)
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            recovered = await _recovers(d, practice, token)
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            await admin.close()
        assert (await d.client.get("/readyz")).status_code == 200
        listed = await d.client.get(f"{practice.scim_path}/Users", headers=headers)
        assert [r["userName"] for r in listed.json()["Resources"]] == ["kept@x.org"]
        print(f"\noutage: slowest 503 {worst * 1000:.0f} ms; recovered {recovered:.2f} s after")


async def test_postgres_lock_wait_is_bounded(tmp_path: Path) -> None:
    async with deployment(
        "postgresql", tmp_path, database_timeout_seconds=TIMEOUT, request_timeout_seconds=10.0
    ) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        token = await fetch_token(d.client, practice)
        headers = {"Authorization": f"Bearer {token}"}
        blocker = await asyncpg.connect(d.url)
        try:
            async with blocker.transaction():
                await blocker.execute("LOCK TABLE staff_user IN ACCESS EXCLUSIVE MODE")
                response, seconds = await _timed(
                    d.client.post(
                        f"{practice.scim_path}/Users", json=user_body("w@x.org"), headers=headers
                    )
                )
            assert_scim_error(response, 503)
            assert TIMEOUT - 0.2 < seconds < TIMEOUT + SLACK, seconds
        finally:
            await blocker.close()
        again = await d.client.post(
            f"{practice.scim_path}/Users", json=user_body("w@x.org"), headers=headers
        )
        assert again.status_code == 201
        print(f"\nlocked table: 503 after {seconds * 1000:.0f} ms (timeout {TIMEOUT} s)")


async def test_request_deadline_cuts_a_longer_wait(tmp_path: Path) -> None:
    async with deployment(
        "postgresql", tmp_path, database_timeout_seconds=8.0, request_timeout_seconds=1.0
    ) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        token = await fetch_token(d.client, practice)
        blocker = await asyncpg.connect(d.url)
        try:
            async with blocker.transaction():
                await blocker.execute("LOCK TABLE staff_user IN ACCESS EXCLUSIVE MODE")
                response, seconds = await _timed(
                    d.client.get(
                        f"{practice.scim_path}/Users", headers={"Authorization": f"Bearer {token}"}
                    )
                )
        finally:
            await blocker.close()
        assert_scim_error(response, 503)
        assert seconds < 1.0 + SLACK
        assert (await _recovers(d, practice, token)) < 5


async def test_sqlite_busy_writer_is_bounded(tmp_path: Path) -> None:
    async with deployment("sqlite", tmp_path, database_timeout_seconds=TIMEOUT) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        token = await fetch_token(d.client, practice)
        headers = {"Authorization": f"Bearer {token}"}
        writer = sqlite3.connect(d.url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")  # holds the write lock
            response, seconds = await _timed(
                d.client.post(
                    f"{practice.scim_path}/Users", json=user_body("s@x.org"), headers=headers
                )
            )
            assert_scim_error(response, 503)
            assert seconds < TIMEOUT + SLACK, seconds
            # Readers are not blocked by a writer (WAL).
            assert (
                await d.client.get(f"{practice.scim_path}/Users", headers=headers)
            ).status_code == 200
            writer.execute("ROLLBACK")
        finally:
            writer.close()
        again = await d.client.post(
            f"{practice.scim_path}/Users", json=user_body("s@x.org"), headers=headers
        )
        assert again.status_code == 201
        print(f"\nsqlite busy: 503 after {seconds * 1000:.0f} ms (busy timeout {TIMEOUT} s)")
