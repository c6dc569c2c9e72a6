"""Where the console's recording windows are kept: ``deployment_setting`` rows named
``record_window:<practice id>``, so every worker process and host reads the same window.

The recorder sits outside the application (around its edge, before the app's store exists),
so this has an engine of its own with no pool: one connection per call. The recorder reads
every window in one call every few seconds, and only while SCIM requests arrive; the console
reads and writes one row when an administrator looks or acts.
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from server.persistence.repositories.deployment import PiccoloDeploymentSettings
from server.settings import sqlite_path

if TYPE_CHECKING:
    from piccolo.engine.base import Engine

__all__ = ["WINDOW_PREFIX", "RecordWindowStore", "window_store"]

WINDOW_PREFIX = "record_window:"
TIMEOUT = 5.0  # seconds: a window read never holds a SCIM request up for longer


def _engine(database_url: str) -> Engine[Any]:
    if urlsplit(database_url).scheme == "sqlite":
        return SQLiteEngine(path=sqlite_path(database_url), timeout=TIMEOUT)
    return PostgresEngine(config={"dsn": database_url, "timeout": TIMEOUT}, log_queries=False)


class RecordWindowStore:
    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._settings: PiccoloDeploymentSettings | None = None

    async def _table(self) -> PiccoloDeploymentSettings:
        if self._settings is None:
            # piccolo's PostgreSQL engine asks the server's version when built: off the loop.
            # (Two first calls at once build two engines; one is kept, nothing is shared.)
            engine = await asyncio.to_thread(_engine, self._url)
            self._settings = PiccoloDeploymentSettings(engine)
        return self._settings

    async def get(self, practice_id: str) -> str | None:
        return await (await self._table()).get(WINDOW_PREFIX + practice_id)

    async def put(self, practice_id: str, value: str) -> None:
        await (await self._table()).put(WINDOW_PREFIX + practice_id, value)

    async def all(self) -> dict[str, str]:
        """Every practice's window, by practice id."""
        rows = await (await self._table()).starting_with(WINDOW_PREFIX)
        return {name.removeprefix(WINDOW_PREFIX): value for name, value in rows.items()}


@functools.cache
def window_store(database_url: str) -> RecordWindowStore:
    """One ``RecordWindowStore`` per database in a process (its engine is built once)."""
    return RecordWindowStore(database_url)
