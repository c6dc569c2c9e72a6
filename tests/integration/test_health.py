"""Liveness never touches the database; readiness does, and says so while it is gone."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import TYPE_CHECKING

import asyncpg
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.settings import Settings
from tests.conftest import POSTGRES_URL, with_database

if TYPE_CHECKING:
    from litestar import Litestar


async def test_health_and_readiness(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok"}


async def test_readiness_follows_the_database_down_and_back() -> None:
    name = f"scimlab_ready_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        app = create_app(Settings(database_url=with_database(POSTGRES_URL, name)))
        async with AsyncTestClient(app=app) as client:
            assert (await client.get("/readyz")).status_code == 200

            # Cut the service off: no new connections, existing ones terminated.
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            down = await client.get("/readyz")
            assert down.status_code == 503
            assert down.json() == {"status": "unavailable", "database": "unreachable"}
            assert (await client.get("/healthz")).status_code == 200

            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            assert (await client.get("/readyz")).status_code == 200
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_metrics_without_a_token_stay_open(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.get("/metrics")).status_code == 200


async def test_metrics_token_is_required_when_set(settings: Settings) -> None:
    """``SCIMLAB_METRICS_TOKEN``: 401 without it, with another or with another scheme."""
    guarded = replace(settings, metrics_token="m3trics-t0ken")
    async with AsyncTestClient(app=create_app(guarded)) as client:
        missing = await client.get("/metrics")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        for wrong in ("Bearer m3trics-t0keN", "Bearer m3trics-t0ken2", "Basic m3trics-t0ken"):
            assert (
                await client.get("/metrics", headers={"Authorization": wrong})
            ).status_code == 401
        right = await client.get("/metrics", headers={"Authorization": "Bearer m3trics-t0ken"})
        assert right.status_code == 200
        assert "# TYPE" in right.text
        assert (await client.get("/healthz")).status_code == 200


def test_metrics_token_is_read_from_the_environment() -> None:
    assert Settings.from_env({"SCIMLAB_METRICS_TOKEN": " t "}).metrics_token == "t"
    assert "m3trics" not in repr(Settings(metrics_token="m3trics"))
