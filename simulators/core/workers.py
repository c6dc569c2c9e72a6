"""Bounded concurrency for the simulators: up to N objects in flight, results in input order.

An identity provider works through a cycle's objects in parallel (Entra: idp-behaviors §1.7,
"expect parallel requests"), but each object's own requests stay in order (lookup, then
create or update). So the unit of concurrency is one object's whole coroutine: ``bounded``
runs ``work(item)`` for every item with at most ``limit`` of them unfinished at any moment,
and returns the results in the order of ``items`` whatever order they finished in, so
nothing built from them depends on scheduling.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

__all__ = ["bounded", "in_order", "split_at"]

T = TypeVar("T")
R = TypeVar("R")
V = TypeVar("V")


def split_at(keys: list[str], start: int, at: int | None) -> list[list[str]]:
    """``keys`` (a cycle's objects from position ``start`` on) cut before position ``at``;
    never an empty part, so something waiting for position ``at`` runs exactly once."""
    if at is None or not start < at < start + len(keys):
        return [keys] if keys else []
    return [keys[: at - start], keys[at - start :]]


def in_order(items: dict[str, V], rank: dict[str, int]) -> dict[str, V]:
    """``items`` with its keys in ``rank`` order; unranked keys first, as they were."""
    return dict(sorted(items.items(), key=lambda item: rank.get(item[0], -1)))


async def bounded(items: Iterable[T], limit: int, work: Callable[[T], Awaitable[R]]) -> list[R]:
    """``[await work(i) for i in items]`` with up to ``limit`` calls running at once.

    ``limit <= 1`` runs them one after another in this task, exactly like the loop (no tasks
    are made, so a sequential run stays byte-for-byte what it always was). Otherwise ``limit``
    workers pull from one shared feed: a fixed pool rather than one task per item, so 10,000
    users cost ``limit`` tasks. The first unexpected exception stops the feed, lets the
    objects already in flight finish, and is raised as itself (not an ``ExceptionGroup``),
    as the sequential loop would raise it.
    """
    pending = list(items)
    if limit <= 1 or len(pending) <= 1:
        return [await work(item) for item in pending]
    results: dict[int, R] = {}
    feed = iter(enumerate(pending))
    failures: list[Exception] = []

    async def worker() -> None:
        for index, item in feed:
            if failures:
                return
            try:
                results[index] = await work(item)
            except Exception as error:  # re-raised below, unwrapped
                failures.append(error)
                return

    await asyncio.gather(*(worker() for _ in range(min(limit, len(pending)))))
    if failures:
        raise failures[0]
    return [results[index] for index in range(len(pending))]
