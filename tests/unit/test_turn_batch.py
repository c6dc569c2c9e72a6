"""``TurnBatch``: the lookups of one event-loop turn are answered by one call."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from server.persistence.sqlite.turn_batch import TurnBatch

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


class Lookups:
    """A fake store: squares, except for keys it is told to fail on."""

    def __init__(self, *, failing: frozenset[int] = frozenset(), pause: float = 0.0) -> None:
        self.calls: list[list[int]] = []
        self.failing = failing
        self.pause = pause

    async def __call__(self, keys: Sequence[int]) -> Mapping[int, int]:
        self.calls.append(list(keys))
        if self.pause:
            await asyncio.sleep(self.pause)
        if self.failing.intersection(keys):
            msg = f"cannot read {sorted(self.failing.intersection(keys))}"
            raise ValueError(msg)
        return {key: key * key for key in keys if key >= 0}


async def test_the_lookups_of_one_turn_share_one_call() -> None:
    lookups = Lookups()
    batch = TurnBatch(lookups)
    answers = await asyncio.gather(*(batch.get(key) for key in (3, 1, 3, 2, -1)))
    assert answers == [9, 1, 9, 4, None]  # a key it does not answer gets None
    assert lookups.calls == [[3, 1, 2, -1]]  # once each, in order
    assert await batch.get(5) == 25  # a later turn, a call of its own
    assert lookups.calls[1:] == [[5]]


async def test_a_large_turn_is_split() -> None:
    lookups = Lookups()
    batch = TurnBatch(lookups, max_keys=4)
    answers = await asyncio.gather(*(batch.get(key) for key in range(10)))
    assert answers == [key * key for key in range(10)]
    assert lookups.calls == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


async def test_a_failing_key_fails_alone() -> None:
    lookups = Lookups(failing=frozenset({7}))
    batch = TurnBatch(lookups)
    answers = await asyncio.gather(*(batch.get(key) for key in (1, 7, 2)), return_exceptions=True)
    assert answers[0] == 1
    assert isinstance(answers[1], ValueError)
    assert "cannot read [7]" in str(answers[1])
    assert answers[2] == 4
    assert lookups.calls == [[1, 7, 2], [1], [7], [2]]  # the turn, then each key alone


async def test_a_cancelled_caller_leaves_the_others_their_answers() -> None:
    lookups = Lookups(pause=0.01)
    batch = TurnBatch(lookups)
    kept = asyncio.ensure_future(batch.get(2))
    dropped = asyncio.ensure_future(batch.get(3))
    await asyncio.sleep(0.001)  # the call is under way
    dropped.cancel()
    assert await kept == 4
    with pytest.raises(asyncio.CancelledError):
        await dropped
    assert lookups.calls == [[2, 3]]


def test_a_batch_left_on_a_closed_loop_does_not_hold_up_the_next() -> None:
    lookups = Lookups()
    batch = TurnBatch(lookups)
    stopped = asyncio.new_event_loop()
    left = stopped.create_task(batch.get(1))
    stopped.call_soon(stopped.stop)
    stopped.run_forever()  # the lookup waits; the loop stops before its batch runs
    assert not left.done()
    pending = asyncio.all_tasks(stopped)
    for task in pending:
        task.cancel()
    stopped.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    stopped.close()
    assert lookups.calls == []
    assert asyncio.run(asyncio.wait_for(batch.get(2), timeout=1)) == 4
    assert lookups.calls == [[2]]
