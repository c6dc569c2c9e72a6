"""Benchmark: walking every user of a large practice, by RFC 9865 cursor and by startIndex.

It seeds a fresh database (bulk inserts, ``loadtests.seed``), then through the whole app
in-process walks the practice in pages of ``--page`` users: by cursor to the end, timing
every page, then by ``startIndex`` until the end or ``--index-seconds``. The first and the
last page of each walk are then read again ``--repeats`` times each (alternating, so a stall
of the machine falls on both alike) for p50/p99. A keyset walk keeps last/first near 1; an
offset walk's deep pages grow with their depth.

    python -m loadtests.bench.cursor_walk --users 1000000 --page 1000 --backend sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loadtests.bench.load import say
from loadtests.bench.targets import fresh_database
from loadtests.seed import seed_practice, seed_users
from loadtests.stats import percentile
from server.persistence.store import open_store
from server.services import Services
from server.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    PageGet = Callable[[dict[str, Any]], Awaitable[tuple[float, dict[str, Any]]]]

__all__ = ["WalkSize", "cursor_walk_bench", "cursor_walk_lines"]

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
_ORIGIN = "http://bench.local"


@dataclass(frozen=True)
class WalkSize:
    users: int = 100_000
    page: int = 1_000
    #: How long the startIndex walk may take before it stops and says how far it got.
    index_seconds: float = 120.0
    #: Reads of the first and of the last page each, for their p50/p99.
    repeats: int = 50


def _figures(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p99_ms": round(percentile(samples, 0.99), 1),
    }


async def _repeat(get: PageGet, first: dict[str, Any], last: dict[str, Any], repeats: int) -> Any:
    """The first and the last page read ``repeats`` times each, taking turns."""
    firsts: list[float] = []
    lasts: list[float] = []
    for _ in range(repeats):
        firsts.append((await get(first))[0])
        lasts.append((await get(last))[0])
    return _figures(firsts), _figures(lasts)


async def _walks(url: str, size: WalkSize) -> dict[str, Any]:
    # Imported here: ``scimlab bench`` loads this module, and the CLI must not import the app
    # (prometheus-client picks its process mode on first import).
    from litestar.testing import AsyncTestClient  # noqa: PLC0415

    from server.app import create_app  # noqa: PLC0415

    # The benchmark measures paging, not the rate limiter.
    settings = Settings(database_url=url, public_url=_ORIGIN, rate_limit_store="off")
    store = await open_store(url)
    seeding = time.perf_counter()
    try:
        services = Services.build(store, settings)
        practice_id, _client, _secret = await seed_practice(services, "Cursor walk")
        await seed_users(store, practice_id, size.users)
        token = await services.practices.create_static_token(practice_id, actor="bench")
    finally:
        await store.close()
    seeded_s = time.perf_counter() - seeding
    say(f"  seeded {size.users} users in {seeded_s:.1f} s")
    headers = {"Authorization": f"Bearer {token.token}"}
    path = f"/scim/v2/{practice_id}/Users"
    async with AsyncTestClient(create_app(settings), base_url=_ORIGIN) as client:

        async def get(params: dict[str, Any]) -> tuple[float, dict[str, Any]]:
            started = time.perf_counter()
            response = await client.get(path, params=params, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                msg = f"{params} answered {response.status_code}: {response.text[:200]}"
                raise RuntimeError(msg)
            body: dict[str, Any] = response.json()
            return elapsed, body

        await get({"count": 1})  # warm the app and its connections
        by_cursor = await _cursor_walk(get, size)
        by_index = await _index_walk(get, size)
    return {"users": size.users, "page": size.page, "seed_s": round(seeded_s, 1)} | {
        "cursor": by_cursor,
        "index": by_index,
    }


async def _cursor_walk(get: PageGet, size: WalkSize) -> dict[str, Any]:
    started = time.perf_counter()
    params: dict[str, Any] = {"cursor": "", "count": size.page}
    pages: list[float] = []
    seen = 0
    while True:
        elapsed, body = await get(params)
        pages.append(elapsed)
        seen += len(body["Resources"])
        if "nextCursor" not in body:
            break
        params = {"cursor": body["nextCursor"], "count": size.page}
    walk_s = time.perf_counter() - started
    if seen != size.users:
        msg = f"the cursor walk saw {seen} users of {size.users}"
        raise RuntimeError(msg)
    first, deepest = await _repeat(get, {"cursor": "", "count": size.page}, params, size.repeats)
    say(
        f"  cursor: {len(pages)} pages in {walk_s:.1f} s; first page p50 {first['p50_ms']} "
        f"p99 {first['p99_ms']} ms, last page p50 {deepest['p50_ms']} p99 {deepest['p99_ms']} ms"
    )
    return _walk_row(pages, walk_s, first, deepest, complete=True)


async def _index_walk(get: PageGet, size: WalkSize) -> dict[str, Any]:
    started = time.perf_counter()
    pages: list[float] = []
    start = 1
    while start <= size.users and time.perf_counter() - started < size.index_seconds:
        elapsed, _body = await get({"startIndex": start, "count": size.page})
        pages.append(elapsed)
        start += size.page
    walk_s = time.perf_counter() - started
    deepest_start = 1 + (len(pages) - 1) * size.page
    first, deepest = await _repeat(
        get,
        {"startIndex": 1, "count": size.page},
        {"startIndex": deepest_start, "count": size.page},
        size.repeats,
    )
    complete = start > size.users
    reach = "all" if complete else f"stopped after {size.index_seconds:.0f} s at"
    say(
        f"  startIndex: {reach} {len(pages)} pages in {walk_s:.1f} s; first page p50 "
        f"{first['p50_ms']} p99 {first['p99_ms']} ms, page {len(pages)} p50 "
        f"{deepest['p50_ms']} p99 {deepest['p99_ms']} ms"
    )
    return _walk_row(pages, walk_s, first, deepest, complete=complete)


def _walk_row(
    pages: list[float],
    walk_s: float,
    first: dict[str, float],
    last: dict[str, float],
    *,
    complete: bool,
) -> dict[str, Any]:
    tenth = max(1, len(pages) // 10)
    return {
        "pages": len(pages),
        "complete": complete,
        "walk_s": round(walk_s, 1),
        # The walk's own pages: the median of its first tenth and of its last tenth.
        "walk_first_tenth_p50_ms": round(statistics.median(pages[:tenth]), 1),
        "walk_last_tenth_p50_ms": round(statistics.median(pages[-tenth:]), 1),
        "first": first,
        "last": last,
        "last_over_first_p99": round(last["p99_ms"] / first["p99_ms"], 2)
        if first["p99_ms"]
        else None,
    }


async def cursor_walk_bench(backend: str, postgres_url: str, size: WalkSize) -> dict[str, Any]:
    """One database's walks of a fresh practice of ``size.users`` users."""
    say(f"cursor walk on {backend}: {size.users} users, pages of {size.page}")
    async with fresh_database(backend, postgres_url) as url:
        return await _walks(url, size)


def cursor_walk_lines(results: dict[str, dict[str, Any]]) -> list[str]:
    """The Markdown rows of the walks (none when the stage was skipped)."""
    if not results:
        return []
    lines = [
        "",
        "Walking every user of one practice by cursor and by startIndex (first and last",
        "page each read again in turns for p50/p99; a startIndex walk may stop at its time cap",
        "and then reports the deepest page it reached as its last).",
        "",
        "| database | users | page | walk | pages | walk s | first p50 / p99 ms "
        "| last p50 / p99 ms | last p99 / first p99 | walk's first / last tenth p50 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for backend, row in results.items():
        for walk in ("cursor", "index"):
            figures = row[walk]
            pages = str(figures["pages"]) + ("" if figures["complete"] else " (capped)")
            cells = [
                backend,
                row["users"],
                row["page"],
                "cursor" if walk == "cursor" else "startIndex",
                pages,
                figures["walk_s"],
                f"{figures['first']['p50_ms']} / {figures['first']['p99_ms']}",
                f"{figures['last']['p50_ms']} / {figures['last']['p99_ms']}",
                figures["last_over_first_p99"],
                f"{figures['walk_first_tenth_p50_ms']} / {figures['walk_last_tenth_p50_ms']}",
            ]
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--users", type=int, default=WalkSize.users)
    parser.add_argument("--page", type=int, default=WalkSize.page)
    parser.add_argument("--index-seconds", type=float, default=WalkSize.index_seconds)
    parser.add_argument("--repeats", type=int, default=WalkSize.repeats)
    parser.add_argument(
        "--backend", "--backends", dest="backends", nargs="+", default=["sqlite", "postgresql"]
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    args = parser.parse_args(argv)
    size = WalkSize(args.users, args.page, args.index_seconds, args.repeats)

    async def run() -> dict[str, dict[str, Any]]:
        return {b: await cursor_walk_bench(b, args.postgres_url, size) for b in args.backends}

    results = asyncio.run(run())
    print("\n".join(cursor_walk_lines(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
