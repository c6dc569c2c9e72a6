"""Token buckets: the arithmetic, the in-memory store, and a shared store with a fallback.

A *draw* names a bucket (``key``), how it refills (``rate`` tokens per second up to
``burst``), what it must hold for the draw to pass (``need``) and what the draw takes
(``cost``; negative gives tokens back). A batch of draws is all-or-nothing: either every
bucket holds what its draw needs and all are charged, or none is and the caller learns how
many seconds to wait. The PostgreSQL store (``server.persistence.rate_buckets``) applies the
same rules in one statement, so several server processes share one set of buckets.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["BucketStore", "Draw", "FailoverBuckets", "MemoryBuckets"]

logger = logging.getLogger("scimlab.ops.limits")


@dataclass(frozen=True, slots=True)
class Draw:
    key: str
    rate: float
    burst: float
    cost: float = 1.0
    need: float = 1.0


class BucketStore(Protocol):
    async def draw(self, draws: Sequence[Draw]) -> float:
        """0.0 if every draw passed (all charged); else seconds to wait (nothing charged)."""
        ...

    async def give_back(self, draws: Sequence[Draw]) -> None:
        """The caller of a batch that passed has failed: return what is held ahead of time
        for that batch (``server.ops.leases``); stores that hold nothing do nothing."""
        ...

    async def close(self) -> None: ...


class MemoryBuckets:
    """Buckets in this process (the embedded default). Least recently used keys are
    forgotten beyond ``max_keys`` (a forgotten bucket is a full one)."""

    def __init__(
        self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max_keys = max_keys
        self._clock = clock

    async def draw(self, draws: Sequence[Draw]) -> float:
        wait, _ = self._take(draws, 1)
        return wait

    async def lease(self, draws: Sequence[Draw], most: int) -> tuple[float, int]:
        """Up to ``most`` uses at once, as ``server.persistence.rate_buckets`` grants them
        (each charged bucket pays with at most half its level; at least one use)."""
        return self._take(draws, most)

    def _take(self, draws: Sequence[Draw], most: int) -> tuple[float, int]:
        # No await inside: one event loop applies a batch atomically.
        now = self._clock()
        levels: list[float] = []
        wait = 0.0
        for d in draws:
            tokens, stamp = self._buckets.get(d.key, (d.burst, now))
            level = min(d.burst, tokens + max(0.0, now - stamp) * d.rate)
            if level < d.need:
                wait = max(wait, (d.need - level) / d.rate)
            levels.append(level)
        if wait > 0:
            return wait, 0
        granted = 1
        if most > 1:
            granted = most
            for d, level in zip(draws, levels, strict=True):
                if d.cost > 0:
                    granted = min(granted, max(1, math.floor(level / d.cost / 2)))
        for d, level in zip(draws, levels, strict=True):
            self._buckets[d.key] = (max(0.0, min(d.burst, level - d.cost * granted)), now)
            self._buckets.move_to_end(d.key)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return 0.0, granted

    async def give_back(self, draws: Sequence[Draw]) -> None:
        return None

    async def close(self) -> None:
        self._buckets.clear()


class FailoverBuckets:
    """A shared store, and this process's own buckets while the shared one does not answer.

    Rate limiting never takes the service down with the database: a failed or slow draw
    (``timeout``) switches to local buckets for ``retry_after`` seconds, then tries again.
    """

    def __init__(
        self,
        shared: BucketStore,
        *,
        timeout: float = 1.0,
        retry_after: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._shared = shared
        self._local = MemoryBuckets(clock=clock)
        self._timeout = timeout
        self._retry_after = retry_after
        self._clock = clock
        self._shared_down_until = 0.0

    @property
    def degraded(self) -> bool:
        return self._clock() < self._shared_down_until

    async def draw(self, draws: Sequence[Draw]) -> float:
        if not self.degraded:
            try:
                # A deadline on this task, not wait_for's second task per draw.
                async with asyncio.timeout(self._timeout):
                    return await self._shared.draw(draws)
            except Exception as error:  # any failure of the shared store
                logger.warning(
                    "shared rate-limit store unavailable; limiting per process",
                    extra={"error": type(error).__name__},
                )
                self._shared_down_until = self._clock() + self._retry_after
        return await self._local.draw(draws)

    async def give_back(self, draws: Sequence[Draw]) -> None:
        if self.degraded:
            return
        try:
            async with asyncio.timeout(self._timeout):
                await self._shared.give_back(draws)
        except Exception as error:  # lost uses are only tokens spent early
            logger.warning(
                "shared rate-limit store unavailable; leased uses not returned",
                extra={"error": type(error).__name__},
            )

    async def close(self) -> None:
        await self._shared.close()
        await self._local.close()
