"""Applying piccolo migrations to a given engine (``scimlab migrate`` and ``scimlab serve``)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
from typing import TYPE_CHECKING, Any

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration

from server.persistence.migrations import piccolo_conf

if TYPE_CHECKING:
    from piccolo.engine.base import Engine

__all__ = ["apply_migrations"]

_CONF_MODULE = "server.persistence.migrations.piccolo_conf"
# piccolo looks its engine up globally while migrating; one migration at a time per process.
_lock = asyncio.Lock()


async def apply_migrations(engine: Engine[Any], *, up_to: str = "all") -> str:
    """Run every pending migration of the ``scimlab`` app (or those up to and including the
    migration whose ``ID`` is ``up_to``); return piccolo's report."""
    async with _lock:
        os.environ["PICCOLO_CONF"] = _CONF_MODULE
        previous_engine = piccolo_conf.DB
        piccolo_conf.DB = engine
        Migration._meta.db = engine
        report = io.StringIO()
        try:
            with contextlib.redirect_stdout(report):
                result = await run_forwards(app_name="scimlab", migration_id=up_to)
        finally:
            piccolo_conf.DB = previous_engine
        if not result.success:
            msg = f"migrations failed: {result.message}\n{report.getvalue()}"
            raise RuntimeError(msg)
        return report.getvalue()
