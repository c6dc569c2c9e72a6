"""Rate-limit buckets shared by every server process, in PostgreSQL.

One UNLOGGED table (operational state: no WAL, lost on a crash, which only refills the
buckets) and one PL/pgSQL function that applies a batch of draws in a single round trip,
with the same rules as ``server.ops.buckets.MemoryBuckets``: the rows a batch charges are
locked in key order (no deadlocks between processes), and either every draw passes and is
charged or none is. A peek (cost 0, the failure buckets' check on every SCIM request) reads
its row without a lock and writes nothing: its refilled level is what the row already
implies, and a bucket never drawn from is full. Rows idle for an hour are full buckets
again and are deleted now and then.

A *lease* (``server.ops.leases``) asks for up to ``most`` uses of a batch at once: it is
granted as many as every charged bucket can pay for with half of its level, at least one
(so near a limit every request still draws exactly one, as a plain draw does).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Protocol

import asyncpg

from server.persistence.engine import keep_session

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Draw", "PostgresBuckets"]


class Draw(Protocol):
    """One charge against one bucket, as the rate limiter (``server.ops.buckets.Draw``)
    makes it: described here so that persistence needs nothing of ``server.ops``."""

    @property
    def key(self) -> str: ...
    @property
    def rate(self) -> float: ...
    @property
    def burst(self) -> float: ...
    @property
    def cost(self) -> float: ...
    @property
    def need(self) -> float: ...


TABLE = "scimlab_rate_bucket"

_SETUP = f"""
SELECT pg_advisory_xact_lock(hashtext('{TABLE}'));
CREATE UNLOGGED TABLE IF NOT EXISTS {TABLE} (
    key text PRIMARY KEY,
    tokens double precision NOT NULL,
    stamp double precision NOT NULL
);
CREATE OR REPLACE FUNCTION {TABLE}_lease(
    keys text[], rates float8[], bursts float8[], costs float8[], needs float8[], most int
) RETURNS float8[] LANGUAGE plpgsql AS $fn$
DECLARE
    now_s float8 := extract(epoch FROM clock_timestamp());
    n int := coalesce(array_length(keys, 1), 0);
    levels float8[] := '{{}}';
    wait float8 := 0;
    granted int := greatest(1, most);
    level float8;
    t float8;
    s float8;
BEGIN
    FOR i IN 1..n LOOP
        IF costs[i] = 0 THEN
            -- A peek charges nothing: no lock, and no row for a bucket never drawn from.
            SELECT tokens, stamp INTO t, s FROM {TABLE} WHERE key = keys[i];
        ELSE
            SELECT tokens, stamp INTO t, s FROM {TABLE} WHERE key = keys[i] FOR UPDATE;
            IF NOT FOUND THEN
                INSERT INTO {TABLE} (key, tokens, stamp) VALUES (keys[i], bursts[i], now_s)
                    ON CONFLICT (key) DO NOTHING;
                SELECT tokens, stamp INTO t, s FROM {TABLE} WHERE key = keys[i] FOR UPDATE;
            END IF;
        END IF;
        level := CASE WHEN t IS NULL THEN bursts[i]
                      ELSE least(bursts[i], t + greatest(0, now_s - s) * rates[i]) END;
        levels := levels || level;
        IF level < needs[i] THEN
            wait := greatest(wait, (needs[i] - level) / rates[i]);
        END IF;
    END LOOP;
    IF wait > 0 THEN
        RETURN ARRAY[wait, 0];
    END IF;
    FOR i IN 1..n LOOP
        -- Half of what is left at most: other processes near a limit still get their share.
        CONTINUE WHEN costs[i] <= 0;
        granted := least(granted, greatest(1, floor(levels[i] / costs[i] / 2)::int));
    END LOOP;
    FOR i IN 1..n LOOP
        -- A peek's refilled level is what its row already implies: nothing to write.
        CONTINUE WHEN costs[i] = 0;
        UPDATE {TABLE}
            SET tokens = greatest(0, least(bursts[i], levels[i] - costs[i] * granted)),
                stamp = now_s
            WHERE key = keys[i];
    END LOOP;
    RETURN ARRAY[0, granted];
END
$fn$;
-- One use: the draw every batch with a refund or a charge makes (and older processes call).
CREATE OR REPLACE FUNCTION {TABLE}_draw(
    keys text[], rates float8[], bursts float8[], costs float8[], needs float8[]
) RETURNS float8 LANGUAGE sql AS $fn$
    SELECT ({TABLE}_lease(keys, rates, bursts, costs, needs, 1))[1]
$fn$;
"""  # noqa: S608 - constant names; every value is a bound parameter

_LEASE = (
    f"SELECT {TABLE}_lease($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::float8[],"
    " $6::int)"
)
_PRUNE = f"DELETE FROM {TABLE} WHERE stamp < extract(epoch FROM clock_timestamp()) - 3600"  # noqa: S608
_PRUNE_EVERY_SECONDS = 60.0


class PostgresBuckets:
    """A small asyncpg pool of its own, opened on first use (so a database that is down at
    start-up only delays sharing); ``timeout`` bounds connecting and every statement."""

    def __init__(self, database_url: str, *, timeout: float = 2.0, max_size: int = 10) -> None:
        self._url = database_url
        self._timeout = timeout
        self._max_size = max_size
        self._pool: Any = None
        self._next_prune = 0.0
        self._opening = asyncio.Lock()
        # Connections in turn (FIFO), as server.persistence.fixed_statements takes the main pool's.
        self._turns = asyncio.Semaphore(max_size)

    async def _connect(self) -> Any:
        if self._pool is not None:
            return self._pool
        async with self._opening:
            return await self._open()

    async def _open(self) -> Any:
        if self._pool is None:
            pool = await asyncpg.create_pool(
                self._url,
                min_size=1,
                max_size=self._max_size,
                timeout=self._timeout,
                command_timeout=self._timeout,
                reset=keep_session,  # a draw per SCIM request: no second round trip
            )
            try:
                async with pool.acquire() as connection, connection.transaction():
                    await connection.execute(_SETUP)
            except BaseException:
                await pool.close()
                raise
            self._pool = pool
        return self._pool

    async def draw(self, draws: Sequence[Draw]) -> float:
        wait, _ = await self.lease(draws, 1)
        return wait

    async def lease(self, draws: Sequence[Draw], most: int) -> tuple[float, int]:
        """(0.0, uses granted) if the batch passed, each charged bucket paying for every
        use; else (seconds to wait, 0) and nothing charged."""
        pool = await self._connect()
        ordered = sorted(draws, key=lambda d: d.key)
        async with self._turns:
            wait, granted = await self._lease(pool, ordered, most)
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + _PRUNE_EVERY_SECONDS
            await pool.execute(_PRUNE)
        return float(wait), int(granted)

    async def _lease(self, pool: Any, ordered: Sequence[Draw], most: int) -> list[float]:
        return await pool.fetchval(  # type: ignore[no-any-return]
            _LEASE,
            [d.key for d in ordered],
            [d.rate for d in ordered],
            [d.burst for d in ordered],
            [d.cost for d in ordered],
            [d.need for d in ordered],
            most,
        )

    async def give_back(self, draws: Sequence[Draw]) -> None:
        """Nothing is held ahead of time here (leases are ``server.ops.leases``)."""

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
