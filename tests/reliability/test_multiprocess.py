"""Several processes on one PostgreSQL database: ``scimlab serve --workers 2`` and a second
server on another port (two hosts, in effect). The concurrency workload passes across them,
and the rate limits hold across them (the buckets live in PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING

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
    user_body,
)
from tests.reliability.workloads import check_race, live_users, race

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.reliability

SECONDS = sized(6, 60)
LOW_LIMITS = {
    "SCIMLAB_SCIM_RATE_LIMIT": "1",
    "SCIMLAB_SCIM_RATE_BURST": "30",
    "SCIMLAB_TOKEN_RATE_LIMIT": "0.5",
    "SCIMLAB_TOKEN_RATE_BURST": "10",
    "SCIMLAB_FAILED_AUTH_RATE_LIMIT": "0.2",
    "SCIMLAB_FAILED_AUTH_BURST": "5",
}


def _pids(server: Server) -> set[int]:
    lines = [json.loads(line) for line in server.log_lines() if line.startswith("{")]
    return {e["pid"] for e in lines if e.get("logger") == "scimlab.access"}


async def test_two_hosts_and_two_workers_share_one_database(tmp_path: Path) -> None:
    async with fresh_database("postgresql", tmp_path) as url:
        hosts = [
            Server(url, tmp_path / "a.log", workers=2, extra_env=UNLIMITED_ENV),
            Server(url, tmp_path / "b.log", extra_env=UNLIMITED_ENV),
        ]
        credentials = enable_practice(hosts[0].env)
        for host in hosts:
            host.start()
        try:
            figures = await _race_across(hosts, credentials, url)
            await _metrics_count_every_worker(hosts[0], credentials["practice_id"])
        finally:
            for host in hosts:
                host.stop()
        assert len(_pids(hosts[0])) == 2  # both workers of the first host answered
        print(f"\nrace across 3 processes, 50 clients, {SECONDS} s: {figures}")

        for host in hosts:
            host.extra_env = LOW_LIMITS
            host.start()
        try:
            await _limits_across(hosts, credentials)
        finally:
            for host in hosts:
                host.stop()


async def _race_across(
    hosts: list[Server], credentials: dict[str, str], url: str
) -> dict[str, int]:
    path = f"/scim/v2/{credentials['practice_id']}"
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        token = await bearer(http, credentials["token_endpoint_url"], credentials)
        headers = {"Authorization": f"Bearer {token}"}
        urls = [f"{host.base}{path}" for host in hosts]
        log = await race(http, urls, headers, clients=50, seconds=SECONDS)
        users = await live_users(http, urls[1], headers)
    assert await query(url, DUPLICATE_NAMES) == []
    return check_race(log, users)


async def _metrics_count_every_worker(host: Server, practice: str) -> None:
    """With two workers, ``/metrics`` adds both up: it agrees with the access log."""
    for _ in range(30):
        logged = sum(
            1
            for line in host.log_lines()
            if line.startswith("{")
            and (entry := json.loads(line))["logger"] == "scimlab.access"
            and entry.get("practice") == practice
        )
        async with httpx.AsyncClient(timeout=10) as http:
            metrics = (await http.get(f"{host.base}/metrics")).text
        counted = sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("scimlab_requests_total{") and f'practice="{practice}"' in line
        )
        if counted == logged:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"metrics count {counted}, the access log {logged}")


async def _limits_across(hosts: list[Server], credentials: dict[str, str]) -> None:
    """Requests spread over three processes draw on one budget, not three."""
    path = f"/scim/v2/{credentials['practice_id']}/Users"
    limits = httpx.Limits(max_keepalive_connections=0)  # new connections: both workers serve
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        form = {
            "grant_type": "client_credentials",
            "client_id": credentials["client_id"],
            "client_secret": credentials["client_secret"],
        }
        started = time.monotonic()
        tokens = [await http.post(hosts[i % 2].base + "/oauth/token", data=form) for i in range(24)]
        elapsed = time.monotonic() - started
        issued = [r for r in tokens if r.status_code == 200]
        assert len(issued) <= 10 + 0.5 * elapsed + 1, len(issued)  # one shared bucket of 10
        assert {r.status_code for r in tokens} == {200, 429}
        headers = {"Authorization": f"Bearer {issued[0].json()['access_token']}"}

        started = time.monotonic()
        answers = await asyncio.gather(
            *[
                http.post(hosts[i % 2].base + path, json=user_body(f"l{i}@x.org"), headers=headers)
                for i in range(90)
            ]
        )
        elapsed = time.monotonic() - started
        created = sum(1 for r in answers if r.status_code == 201)
        assert {r.status_code for r in answers} == {201, 429}
        assert created <= 30 + 1 * elapsed + 1, created  # one shared practice bucket of 30

        # A sprayer trying client ids from one address: one shared failure bucket of 5.
        guesses = [
            (
                await http.post(
                    hosts[i % 2].base + "/oauth/token", data={**form, "client_id": f"guess-{i}"}
                )
            ).status_code
            for i in range(12)
        ]
        assert 5 <= guesses.count(401) <= 6, guesses
        assert guesses[-1] == 429
    print(
        f"\nlimits across 3 processes: {len(issued)} of 24 tokens, {created} of 90 creates, "
        f"{guesses.count(401)} of 12 sprayed client ids answered 401, the rest 429"
    )
