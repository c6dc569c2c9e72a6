"""``ActivityPlugin``: the provisioning activity log, added to an app in one line.

At start-up (after the app's own lifespan has opened the store, before ``OpsPlugin``'s) it
puts an :class:`ActivityObserver` in ``app.state.exchange_observer``, which ``OpsPlugin``
hands to the edge (``EdgeMiddleware.observe``): it sees every SCIM exchange inside the
edge's request id, requests the fast routes answered and refusals included. It starts the
recorder's batch task and purges entries older than ``SCIMLAB_ACTIVITY_RETENTION_DAYS`` at
start and then every hour; at shutdown it writes what is queued. It also adds the
management API route; the console page is in the console's router.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from litestar.plugins import InitPlugin

from server.activity.api import ActivityController
from server.activity.observe import ActivityObserver
from server.activity.recorder import ActivityRecorder
from server.domain.clock import utcnow
from server.persistence.repositories.activity import PiccoloActivityLog, activity_log_of

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from litestar import Litestar
    from litestar.config.app import AppConfig

    from server.settings import Settings

__all__ = ["FLUSH_SECONDS", "PURGE_EVERY_SECONDS", "ActivityPlugin", "purge_expired"]

logger = logging.getLogger("scimlab.activity")
PURGE_EVERY_SECONDS = 3600.0
#: How long an entry waits in the recorder's queue at most before its batch is written.
FLUSH_SECONDS = 0.5


async def purge_expired(log: PiccoloActivityLog, retention_days: int) -> int:
    """Delete entries older than the retention; how many went."""
    return await log.purge(utcnow() - timedelta(days=retention_days))


class ActivityPlugin(InitPlugin):
    __slots__ = ("_settings",)

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers = [*app_config.route_handlers, ActivityController]
        app_config.lifespan = [*app_config.lifespan, self._lifespan]
        return app_config

    async def _purge_every_hour(self, log: PiccoloActivityLog) -> None:
        while True:
            await asyncio.sleep(PURGE_EVERY_SECONDS)
            try:
                await purge_expired(log, self._settings.activity_retention_days)
            except Exception:
                logger.exception("activity log: the retention purge failed")

    @asynccontextmanager
    async def _lifespan(self, app: Litestar) -> AsyncIterator[None]:
        log = activity_log_of(app.state.services.store)
        recorder = ActivityRecorder(log, interval=FLUSH_SECONDS)
        app.state.activity_log = log
        app.state.activity_recorder = recorder
        await purge_expired(log, self._settings.activity_retention_days)
        recorder.start()
        purging = asyncio.get_running_loop().create_task(self._purge_every_hour(log))
        app.state.exchange_observer = ActivityObserver(recorder.add)
        try:
            yield
        finally:
            app.state.exchange_observer = None
            purging.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purging
            await recorder.stop()
