"""Leases on a shared bucket store: one round trip for several requests of the same caller.

With PostgreSQL every SCIM request drew from the shared buckets in a transaction of its own,
a third of the statements of an identity provider's traffic. ``LeasedBuckets`` asks the
shared store for up to ``size`` uses of a batch at once (``LeaseStore.lease``) and answers the
next identical batches (same practice, same credential, same source address) from what it
holds, for at most ``ttl`` seconds.

What a lease changes, and why it is safe:

* Uses are paid for when leased, never after: a caller cannot get more than the buckets
  allow, only spend some of it a little earlier. The shared store grants at most half of a
  bucket's level, so near a limit each request draws exactly one again, and callers in
  other processes keep their share.
* The failure buckets a batch peeks are checked when the lease is taken, so a lease's uses
  see them up to ``size`` requests or ``ttl`` seconds late. A caller that fails (a 401)
  gives its lease back at once (``give_back``), so guesses are never answered from one.
* Uses still held when a lease expires are lost to the bucket (at most ``size - 1`` per
  caller and process), as if they had been spent.

Only batches that take tokens are leased: a draw that must find what it costs, beside peeks.
Batches that give tokens back (refunds) or charge after the fact (a failure, ``need`` 0) go
to the shared store as they are, once each.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Protocol

from server.ops.buckets import Draw

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["LeaseStore", "LeasedBuckets"]


class LeaseStore(Protocol):
    async def draw(self, draws: Sequence[Draw]) -> float: ...

    async def lease(self, draws: Sequence[Draw], most: int) -> tuple[float, int]:
        """(0.0, uses granted, 1 to ``most``) with every charged bucket paying for each use;
        or (seconds to wait, 0) with nothing charged."""
        ...

    async def close(self) -> None: ...


class LeasedBuckets:
    def __init__(
        self,
        shared: LeaseStore,
        *,
        size: int = 10,
        ttl: float = 1.0,
        max_leases: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._shared = shared
        self._size = size
        self._ttl = ttl
        self._max_leases = max_leases
        self._clock = clock
        # batch -> [uses left, expiry]
        self._held: OrderedDict[tuple[Draw, ...], list[float]] = OrderedDict()
        # batch -> set when the lease being asked for it has been answered
        self._asking: dict[tuple[Draw, ...], asyncio.Event] = {}

    async def draw(self, draws: Sequence[Draw]) -> float:
        if not _takes(draws):
            return await self._shared.draw(draws)
        batch = tuple(draws)
        while True:
            if self._use(batch):
                return 0.0
            asking = self._asking.get(batch)
            if asking is None:
                break
            # One lease in flight per batch: the others wait for it and use what it brought.
            await asking.wait()
        answered = self._asking[batch] = asyncio.Event()
        try:
            wait, granted = await self._shared.lease(draws, self._size)
            if wait > 0:
                return wait
            if granted > 1:
                self._hold(batch, granted - 1)
            return 0.0
        finally:
            del self._asking[batch]
            answered.set()

    async def give_back(self, draws: Sequence[Draw]) -> None:
        """The batch's caller failed: what it still holds goes back to the shared buckets."""
        held = self._held.pop(tuple(draws), None)
        if held is None or held[0] <= 0:
            return
        uses = held[0]
        refund = [
            Draw(d.key, d.rate, d.burst, cost=-uses * d.cost, need=0.0) for d in draws if d.cost > 0
        ]
        if refund:
            await self._shared.draw(refund)

    async def close(self) -> None:
        self._held.clear()
        await self._shared.close()

    def _use(self, batch: tuple[Draw, ...]) -> bool:
        held = self._held.get(batch)
        if held is None:
            return False
        if held[1] <= self._clock():
            del self._held[batch]
            return False
        held[0] -= 1
        if held[0] <= 0:
            del self._held[batch]
        return True

    def _hold(self, batch: tuple[Draw, ...], uses: int) -> None:
        self._held[batch] = [float(uses), self._clock() + self._ttl]
        self._held.move_to_end(batch)
        while len(self._held) > self._max_leases:
            self._held.popitem(last=False)


def _takes(draws: Sequence[Draw]) -> bool:
    """Whether a batch is leasable: takes (each must find what it costs) and peeks only."""
    taking = False
    for d in draws:
        if d.cost > 0 and d.need >= d.cost:
            taking = True
        elif d.cost != 0:
            return False
    return taking
