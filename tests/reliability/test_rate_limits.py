"""Rate limits per practice and per client on SCIM and the token endpoint; refused token
requests throttled per client id (from each address) and per source address; the shared
PostgreSQL store."""

from __future__ import annotations

import asyncio
import base64
import random
from typing import TYPE_CHECKING, Any

import pytest

from server.ops.buckets import Draw, FailoverBuckets, MemoryBuckets
from server.ops.plugin import rate_limits
from server.ops.ratelimit import RateLimitMiddleware
from server.persistence.rate_buckets import PostgresBuckets
from server.settings import Settings
from tests.conftest import fetch_token, new_practice
from tests.reliability.support import (
    assert_oauth_error,
    assert_scim_error,
    deployment,
    fresh_database,
    user_body,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path


pytestmark = pytest.mark.reliability

LOW = {
    "scim_rate_limit": 1.0,
    "scim_rate_burst": 5,
    "token_rate_limit": 1.0,
    "token_rate_burst": 4,
    "failed_auth_rate_limit": 0.5,
    "failed_auth_burst": 3,
}


def _form(client_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


async def test_scim_budget_is_per_practice_with_retry_after(backend: str, tmp_path: Path) -> None:
    async with deployment(backend, tmp_path, **LOW) as d:
        one = await new_practice(d.client, d.store, d.settings)
        two = await new_practice(d.client, d.store, d.settings)
        tokens = {p.id: await fetch_token(d.client, p) for p in (one, two)}
        statuses = []
        for _ in range(7):
            response = await d.client.get(
                f"{one.scim_path}/Users", headers={"Authorization": f"Bearer {tokens[one.id]}"}
            )
            statuses.append(response.status_code)
        assert statuses[:5] == [200] * 5
        assert statuses[5:] == [429, 429]
        body = assert_scim_error(response, 429)
        assert int(response.headers["retry-after"]) >= 1
        assert "retry after" in body["detail"]
        # The other practice has its own budget.
        other = await d.client.get(
            f"{two.scim_path}/Users", headers={"Authorization": f"Bearer {tokens[two.id]}"}
        )
        assert other.status_code == 200
        await asyncio.sleep(1.1)  # one token refilled
        again = await d.client.get(
            f"{one.scim_path}/Users", headers={"Authorization": f"Bearer {tokens[one.id]}"}
        )
        assert again.status_code == 200


async def test_reads_by_id_spend_the_budget_and_refusals_are_charged(
    backend: str, tmp_path: Path
) -> None:
    """Reads by id are answered by the edge's fast route (server.scim.fast_routes), still
    inside the rate limits."""
    async with deployment(backend, tmp_path, **LOW) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        headers = {"Authorization": f"Bearer {await fetch_token(d.client, practice)}"}
        created = await d.client.post(
            f"{practice.scim_path}/Users", json=user_body("r@x.org"), headers=headers
        )
        assert created.status_code == 201
        path = f"{practice.scim_path}/Users/{created.json()['id']}"
        async with d.client_from("203.0.113.7") as stranger:
            forged = {"Authorization": "Bearer forged"}
            refused = [(await stranger.get(path, headers=forged)).status_code for _ in range(5)]
        assert refused == [401] * 3 + [429] * 2  # refunded to the practice, charged to them
        statuses = [(await d.client.get(path, headers=headers)).status_code for _ in range(6)]
        assert statuses == [200] * 4 + [429] * 2


async def test_strangers_cannot_spend_a_practice_budget(tmp_path: Path) -> None:
    async with deployment("sqlite", tmp_path, **LOW) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        token = await fetch_token(d.client, practice)
        async with d.client_from("203.0.113.9") as stranger:
            refused = [
                (
                    await stranger.get(
                        f"{practice.scim_path}/Users", headers={"Authorization": "Bearer forged"}
                    )
                ).status_code
                for _ in range(10)
            ]
        # Three refusals, then the stranger's address is throttled (before any lookup).
        assert refused == [401] * 3 + [429] * 7
        # The practice's own budget is intact: all five of its burst.
        ok = [
            (
                await d.client.post(
                    f"{practice.scim_path}/Users",
                    json=user_body(f"u{i}@x.org"),
                    headers={"Authorization": f"Bearer {token}"},
                )
            ).status_code
            for i in range(5)
        ]
        assert ok == [201] * 5


async def test_leased_uses_never_answer_a_failing_caller_nor_spend_the_budget(
    tmp_path: Path,
) -> None:
    """On PostgreSQL the buckets are leased ahead (server.ops.leases): a burst large enough
    for leases of several uses must still refuse a guesser by its failure bucket, and leave
    the practice every token of its burst."""
    limits = {**LOW, "scim_rate_limit": 0.001, "scim_rate_burst": 40}
    async with deployment("postgresql", tmp_path, **limits) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        headers = {"Authorization": f"Bearer {await fetch_token(d.client, practice)}"}
        async with d.client_from("203.0.113.5") as stranger:
            forged = {"Authorization": "Bearer forged"}
            path = f"{practice.scim_path}/Users"
            refused = [(await stranger.get(path, headers=forged)).status_code for _ in range(8)]
        assert refused == [401] * 3 + [429] * 5
        statuses = [(await d.client.get(path, headers=headers)).status_code for _ in range(45)]
        assert statuses == [200] * 40 + [429] * 5


async def test_token_endpoint_budget_per_client(tmp_path: Path) -> None:
    async with deployment("sqlite", tmp_path, **LOW) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        form = _form(practice.client_id, practice.client_secret)
        statuses = [(await d.client.post("/oauth/token", data=form)).status_code for _ in range(5)]
        assert statuses == [200] * 4 + [429]
        response = await d.client.post("/oauth/token", data=form)
        body = assert_oauth_error(response, 429)
        assert body["error"] == "slow_down"
        assert int(response.headers["retry-after"]) >= 1
        # HTTP Basic names the same client, and so the same bucket.
        raw = base64.b64encode(f"{practice.client_id}:{practice.client_secret}".encode())
        basic = await d.client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {raw.decode()}"},
        )
        assert basic.status_code == 429


async def test_refused_token_requests_throttled_per_client_id(tmp_path: Path) -> None:
    async with deployment("sqlite", tmp_path, **LOW) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        async with (
            d.client_from("198.51.100.1") as attacker,
            d.client_from("198.51.100.2") as idp,
        ):
            wrong = _form(practice.client_id, "guess")
            guesses = [
                (await attacker.post("/oauth/token", data=wrong)).status_code for _ in range(5)
            ]
            assert guesses == [401] * 3 + [429] * 2
            right = _form(practice.client_id, practice.client_secret)
            # The guesser stays throttled for that client id, even with the right secret ...
            assert_oauth_error(await attacker.post("/oauth/token", data=right), 429)
            # ... but cannot lock the identity provider out of its own client id.
            assert (await idp.post("/oauth/token", data=right)).status_code == 200
            await asyncio.sleep(2.1)  # a failure token refills (0.5/s)
            assert (await attacker.post("/oauth/token", data=right)).status_code == 200


async def test_refused_token_requests_throttled_per_address(tmp_path: Path) -> None:
    async with deployment("sqlite", tmp_path, **LOW) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        right = _form(practice.client_id, practice.client_secret)
        async with d.client_from("192.0.2.7") as sprayer, d.client_from("192.0.2.8") as neighbour:
            sprayed = [
                (await sprayer.post("/oauth/token", data=_form(f"nobody-{i}", "x"))).status_code
                for i in range(5)
            ]
            assert sprayed == [401] * 3 + [429] * 2
            assert_oauth_error(await sprayer.post("/oauth/token", data=right), 429)
            assert (await neighbour.post("/oauth/token", data=right)).status_code == 200


def _scim_scope(practice: str, token: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": f"/scim/v2/{practice}/Users",
        "path_params": {"practice_id": practice},
        "headers": [(b"authorization", f"Bearer {token}".encode())],
        "client": ("10.0.0.1", 1234),
    }


@pytest.mark.parametrize(("rate", "denied"), [(25.0, False), (50.0, False), (60.0, True)])
async def test_defaults_sustain_an_idp_at_25_per_second(rate: float, denied: bool) -> None:
    """Two simulated minutes at a steady rate against the default limits (fake clock)."""
    now = [0.0]
    store = MemoryBuckets(clock=lambda: now[0])
    statuses: list[int] = []

    async def app(_: Any, __: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def sink(message: Any) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    middleware = RateLimitMiddleware(app, store=store, limits=rate_limits(Settings()))
    for i in range(int(120 * rate)):
        now[0] = i / rate
        await middleware(_scim_scope("p1", "t1"), None, sink)  # type: ignore[arg-type]
    assert (429 in statuses) is denied
    print(f"\n{rate:.0f} req/s for 120 s: {statuses.count(429)} of {len(statuses)} refused")


async def test_postgres_buckets_are_shared_and_atomic(tmp_path: Path) -> None:
    async with fresh_database("postgresql", tmp_path) as url:
        first, second = PostgresBuckets(url), PostgresBuckets(url)
        try:
            draw = [Draw("shared:p", rate=0.001, burst=50)]
            results = await asyncio.gather(
                *[(first if i % 2 else second).draw(draw) for i in range(120)]
            )
            assert sum(1 for wait in results if wait == 0) == 50
            # All-or-nothing: an empty bucket in a batch charges none of the others.
            both = [Draw("shared:p", 0.001, 50), Draw("shared:q", 0.001, 50)]
            assert await first.draw(both) > 0
            assert await second.draw([Draw("shared:q", 0.001, 1, need=1.0)]) == 0
            # Refunds and charges after the fact.
            assert await first.draw([Draw("shared:p", 0.001, 50, cost=-1, need=0)]) == 0
            assert await second.draw(draw) == 0
            assert await second.draw(draw) > 0
        finally:
            await first.close()
            await second.close()


@pytest.mark.parametrize("seed", range(4))
async def test_postgres_buckets_decide_as_memory_buckets_do(tmp_path: Path, seed: int) -> None:
    """The same batches of takes, peeks (cost 0), refunds and charges (need 0), on buckets
    that hardly refill: the shared store passes and refuses exactly what the in-memory
    store does, batch for batch, peeks included (they are read without a lock there), and
    grants leases of the same number of uses."""
    rng = random.Random(seed)
    keys = [f"diff{seed}:{name}" for name in "abcd"]
    shapes = [(1.0, 1.0), (0.0, 1.0), (-1.0, 0.0), (1.0, 0.0), (2.0, 2.0)]
    async with fresh_database("postgresql", tmp_path) as url:
        shared, local = PostgresBuckets(url), MemoryBuckets()
        try:
            for _ in range(150):
                batch = [
                    Draw(key, 1e-6, 4, cost=cost, need=need)
                    for key in rng.sample(keys, rng.randint(1, 3))
                    for cost, need in [rng.choice(shapes)]
                ]
                if all(d.cost >= 0 for d in batch) and rng.random() < 0.5:
                    most = rng.randint(2, 5)  # a lease: the same uses granted by both
                    wait_shared, granted_shared = await shared.lease(batch, most)
                    wait_local, granted_local = await local.lease(batch, most)
                    assert (wait_shared > 0, granted_shared) == (wait_local > 0, granted_local)
                    continue
                passed_shared = await shared.draw(batch) == 0
                passed_local = await local.draw(batch) == 0
                assert passed_shared == passed_local, batch
        finally:
            await shared.close()
            await local.close()


async def test_shared_store_outage_falls_back_to_local_buckets() -> None:
    dead = PostgresBuckets("postgresql://postgres@127.0.0.1:1/none", timeout=0.5)
    buckets = FailoverBuckets(dead, timeout=1.0, retry_after=30)
    draw = [Draw("k", rate=0.001, burst=2)]
    assert [await buckets.draw(draw) == 0 for _ in range(3)] == [True, True, False]
    assert buckets.degraded
    await buckets.close()


class _HangingStore:
    """A shared store that accepts the connection and then never answers."""

    def __init__(self) -> None:
        self.cancelled = 0

    async def draw(self, draws: Sequence[Draw]) -> float:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        pass


async def test_a_shared_store_that_hangs_is_abandoned_at_the_timeout() -> None:
    hanging = _HangingStore()
    buckets = FailoverBuckets(hanging, timeout=0.05, retry_after=30)
    draw = [Draw("k", rate=0.001, burst=1)]
    started = asyncio.get_running_loop().time()
    assert await buckets.draw(draw) == 0  # answered by the local bucket
    assert asyncio.get_running_loop().time() - started < 1.0
    assert hanging.cancelled == 1  # the hung draw was cancelled, not left running
    assert buckets.degraded
    assert await buckets.draw(draw) > 0  # local from now on: its one token is spent
    assert hanging.cancelled == 1
    await buckets.close()
