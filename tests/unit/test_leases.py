"""Leases on a shared bucket store (server.ops.leases): fewer round trips, never more uses
than the buckets allow, and nothing kept by a caller that fails."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from server.ops.buckets import Draw, FailoverBuckets, MemoryBuckets
from server.ops.leases import LeasedBuckets

if TYPE_CHECKING:
    from collections.abc import Sequence


class CountingStore:
    """The in-memory store (which grants leases by the shared store's rule), counting calls;
    ``delay`` makes each call take a turn of the event loop, as a round trip does."""

    def __init__(self, clock: list[float], *, delay: bool = False) -> None:
        self.buckets = MemoryBuckets(clock=lambda: clock[0])
        self.delay = delay
        self.leases: list[int] = []  # uses granted, one entry per lease call
        self.draws: list[list[Draw]] = []

    async def draw(self, draws: Sequence[Draw]) -> float:
        self.draws.append(list(draws))
        return await self.buckets.draw(draws)

    async def lease(self, draws: Sequence[Draw], most: int) -> tuple[float, int]:
        if self.delay:
            await asyncio.sleep(0)
        wait, granted = await self.buckets.lease(draws, most)
        self.leases.append(granted)
        return wait, granted

    async def close(self) -> None:
        pass

    async def level(self, key: str, rate: float = 1e-9, burst: float = 100) -> float:
        """What the bucket holds now: the most a need-only peek can ask for and pass."""
        low, high = 0.0, burst
        for _ in range(40):
            middle = (low + high) / 2
            if await self.buckets.draw([Draw(key, rate, burst, cost=0, need=middle)]) == 0:
                low = middle
            else:
                high = middle
        return low


TAKE = [Draw("p", 1e-9, 100), Draw("c", 1e-9, 100), Draw("fail", 1e-9, 3, cost=0)]


async def test_ten_uses_cost_one_round_trip_and_are_paid_for_when_leased() -> None:
    clock = [0.0]
    shared = CountingStore(clock)
    buckets = LeasedBuckets(shared, size=10)
    assert [await buckets.draw(TAKE) for _ in range(10)] == [0.0] * 10
    assert shared.leases == [10]
    assert await shared.level("p") == pytest.approx(90)
    assert await buckets.draw(TAKE) == 0.0
    assert shared.leases == [10, 10]
    assert await shared.level("c") == pytest.approx(80)


@pytest.mark.parametrize("burst", [1, 5, 50, 51])
async def test_processes_sharing_buckets_get_exactly_what_the_buckets_hold(burst: int) -> None:
    """Two processes' leases over one shared store, drawing in turn and all at once: as many
    uses pass as the bucket holds, none more and none lost while they are asked for."""
    clock = [0.0]
    shared = CountingStore(clock, delay=True)
    first, second = LeasedBuckets(shared), LeasedBuckets(shared)
    draw = [Draw("shared:p", 1e-9, burst)]
    results = await asyncio.gather(
        *[(first if i % 2 else second).draw(draw) for i in range(2 * burst + 20)]
    )
    assert sum(1 for wait in results if wait == 0) == burst
    # One lease in flight per caller: far fewer round trips than uses (when there is room).
    granted = [uses for uses in shared.leases if uses > 0]
    assert sum(granted) == burst
    assert len(granted) <= (burst if burst < 10 else burst // 3)


async def test_near_a_limit_every_use_is_drawn_on_its_own() -> None:
    clock = [0.0]
    shared = CountingStore(clock)
    buckets = LeasedBuckets(shared, size=10)
    draw = [Draw("p", 1e-9, 3)]
    assert [await buckets.draw(draw) == 0 for _ in range(4)] == [True, True, True, False]
    assert shared.leases == [1, 1, 1, 0]


async def test_a_lease_lasts_its_ttl_and_what_is_left_then_is_spent() -> None:
    clock = [0.0]
    shared = CountingStore(clock)
    buckets = LeasedBuckets(shared, size=10, ttl=1.0, clock=lambda: clock[0])
    assert await buckets.draw(TAKE) == 0.0
    clock[0] = 0.999
    assert await buckets.draw(TAKE) == 0.0
    assert shared.leases == [10]
    clock[0] = 1.0
    assert await buckets.draw(TAKE) == 0.0
    assert shared.leases == [10, 10]  # the first lease's 8 unused uses are gone
    assert await shared.level("p") == pytest.approx(80)


async def test_a_caller_that_fails_gives_its_lease_back_and_peeks_again() -> None:
    """A 401 gives the held uses back at once, so the failure bucket's peek runs again on
    the next request and a guesser is refused by it, not served from a lease."""
    clock = [0.0]
    shared = CountingStore(clock)
    buckets = LeasedBuckets(shared, size=10)
    assert await buckets.draw(TAKE) == 0.0
    assert await shared.level("p") == pytest.approx(90)
    await buckets.give_back(TAKE)
    assert await shared.level("p") == pytest.approx(99)
    assert await shared.level("c") == pytest.approx(99)
    # The peek's bucket empties (the failures are charged elsewhere) ...
    await shared.buckets.draw([Draw("fail", 1e-9, 3, cost=3, need=0)])
    # ... and the next request is refused by it, with nothing charged.
    assert await buckets.draw(TAKE) > 0
    assert await shared.level("p") == pytest.approx(99)
    await buckets.give_back(TAKE)  # nothing held: no call
    assert len(shared.draws) == 1  # the give-back only


@pytest.mark.parametrize(
    "batch",
    [
        [Draw("p", 1e-9, 100, cost=-1, need=0), Draw("f", 1e-9, 30, need=0)],  # a 401 on SCIM
        [Draw("f", 1e-9, 30, need=0), Draw("g", 1e-9, 30, need=0)],  # a refused token request
        [Draw("f", 1e-9, 30, cost=0)],  # peeks alone
    ],
)
async def test_refunds_charges_and_peeks_go_to_the_shared_store_once_each(
    batch: list[Draw],
) -> None:
    """A failure is charged once, not leased ahead: a lease would charge it several times."""
    clock = [0.0]
    shared = CountingStore(clock)
    buckets = LeasedBuckets(shared, size=10)
    assert await buckets.draw(batch) == 0.0
    assert await buckets.draw(batch) == 0.0
    assert shared.draws == [batch, batch]
    assert shared.leases == []
    if batch[-1].cost > 0:
        assert await shared.level("f", burst=30) == pytest.approx(28)


async def test_leases_held_are_bounded() -> None:
    clock = [0.0]
    shared = CountingStore(clock)
    buckets = LeasedBuckets(shared, size=10, max_leases=3)
    for caller in range(5):
        assert await buckets.draw([Draw(f"c{caller}", 1e-9, 100)]) == 0.0
    assert len(buckets._held) == 3
    # The oldest was forgotten: its next use needs a new lease.
    assert await buckets.draw([Draw("c0", 1e-9, 100)]) == 0.0
    assert len(shared.leases) == 6


@pytest.mark.parametrize(
    ("levels", "most", "granted"),
    [
        ((100.0,), 10, 10),
        ((100.0, 7.0), 10, 3),  # half of the lowest level
        ((3.0,), 10, 1),
        ((1.0,), 10, 1),  # at least one
        ((100.0,), 1, 1),
    ],
)
async def test_the_lease_rule(levels: tuple[float, ...], most: int, granted: int) -> None:
    buckets = MemoryBuckets(clock=lambda: 0.0)
    draws = [Draw(f"k{i}", 1e-9, level) for i, level in enumerate(levels)]
    assert await buckets.lease([*draws, Draw("peek", 1e-9, 1, cost=0)], most) == (0.0, granted)
    for draw in draws:
        left = draw.burst - granted
        assert await buckets.draw([Draw(draw.key, 1e-9, draw.burst, cost=0, need=left)]) == 0
        assert await buckets.draw([Draw(draw.key, 1e-9, draw.burst, cost=0, need=left + 0.5)]) > 0


async def test_the_failover_store_passes_give_backs_on_unless_degraded() -> None:
    clock = [0.0]
    shared = CountingStore(clock)
    buckets = FailoverBuckets(LeasedBuckets(shared, size=10), clock=lambda: clock[0])
    assert await buckets.draw(TAKE) == 0.0
    await buckets.give_back(TAKE)
    assert await shared.level("p") == pytest.approx(99)
    assert await buckets.draw(TAKE) == 0.0
    buckets._shared_down_until = 5.0  # as after a failed draw
    await buckets.give_back(TAKE)
    assert await shared.level("p") == pytest.approx(89)  # kept: the store is not asked
