"""Migrations are safe to run while the previous release serves (expand/contract,
docs/deployment.md):

- every migration only expands, read off its source (``migration_rules``), and that check
  catches what it forbids;
- on PostgreSQL, a database at the previous migration set (every migration but the newest)
  serves the SCIM read path of this code, and the newest migration is applied while readers
  are in flight: none of them fails, and they read the same afterwards.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from loadtests.seed import seed_practice, seed_users
from server.app import create_app
from server.persistence.engine import close_engine, create_engine, start_engine
from server.persistence.migrate import apply_migrations
from server.persistence.store import open_store
from server.services import Services
from server.settings import Settings
from tests.conftest import PUBLIC_URL, UNLIMITED
from tests.deployment.migration_rules import (
    CONTRACTED,
    MIGRATIONS,
    migration_ids,
    violations,
)
from tests.reliability.support import fresh_database, running

if TYPE_CHECKING:
    from pathlib import Path

READERS = 4


@pytest.mark.parametrize("name", sorted(p.stem for p in MIGRATIONS.glob("m*.py")))
def test_every_migration_only_expands(name: str) -> None:
    found = violations((MIGRATIONS / f"{name}.py").read_text())
    if name in CONTRACTED:
        assert found, f"{name} is listed as a contract step but only expands: unlist it"
    else:
        assert found == [], f"{name} is not additive: {found} (docs/deployment.md)"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('manager.drop_column(table_class_name="T", column_name="email")', ["DROP_COLUMN"]),
        ('manager.rename_column(table_class_name="T", old_column_name="a")', ["RENAME_COLUMN"]),
        ('manager.alter_column(table_class_name="T", column_name="a")', ["ALTER_COLUMN"]),
        ('await engine.run_ddl("ALTER TABLE staff_user DROP COLUMN email")', ["DROP COLUMN"]),
        ('await engine.run_ddl("DROP TABLE outbox")', ["DROP TABLE"]),
        ('await engine.run_ddl("ALTER TABLE a RENAME COLUMN b TO c")', ["RENAME"]),
        ('run_ddl(f"ALTER TABLE t ALTER COLUMN {c} TYPE integer")', ["TYPE INTEGER"]),
        ('run_ddl("ALTER TABLE t ALTER COLUMN a SET NOT NULL")', ["SET NOT NULL"]),
        ('run_ddl("ALTER TABLE t ADD COLUMN a INTEGER NOT NULL")', ["NOT NULL, no DEFAULT"]),
        ('run_ddl("ALTER TABLE t ADD COLUMN a INTEGER NOT NULL DEFAULT 0")', []),
        ('run_ddl(f"ALTER TABLE t ALTER COLUMN {c} TYPE text")', []),
        ('run_ddl("ALTER TABLE audit_event ADD COLUMN address VARCHAR(64)")', []),
        ('run_ddl("CREATE UNIQUE INDEX IF NOT EXISTS i ON t (a)")', []),
        ('manager.add_table(class_name="T", tablename="t")', []),
    ],
)  # fmt: skip
def test_the_rule_catches_what_it_forbids(source: str, expected: list[str]) -> None:
    assert violations(source) == expected


async def test_previous_schema_serves_reads_while_the_newest_migration_applies(
    tmp_path: Path,
) -> None:
    ids = migration_ids()
    previous, newest = ids[-2], ids[-1]
    async with fresh_database("postgresql", tmp_path) as url:
        engine = create_engine(url)
        await start_engine(engine)
        try:
            await apply_migrations(engine, up_to=previous[1])
        finally:
            await close_engine(engine)

        settings = Settings(database_url=url, public_url=PUBLIC_URL, **UNLIMITED)
        store = await open_store(url, migrate=False)
        try:
            services = Services.build(store, settings)
            practice_id, client_id, secret = await seed_practice(services, "Expand Clinic")
            await seed_users(store, practice_id, 50)
        finally:
            await store.close()

        app = create_app(settings, migrate=False)
        async with running(app):
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
            async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
                token = await client.post(
                    "/oauth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": client_id,
                        "client_secret": secret,
                    },
                )
                headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
                base = f"/scim/v2/{practice_id}"
                before = await _reads(client, base, headers)

                stop = asyncio.Event()
                log: list[tuple[float, float, int]] = []
                readers = [
                    asyncio.create_task(_read_until(stop, client, base, headers, log))
                    for _ in range(READERS)
                ]
                await asyncio.sleep(0.2)  # readers in full flow first
                engine = create_engine(url, timeout=10)
                await start_engine(engine)
                try:
                    began = time.monotonic()
                    await apply_migrations(engine)  # the newest: what a deploy step applies
                    ended = time.monotonic()
                finally:
                    await close_engine(engine)
                await asyncio.sleep(0.2)
                stop.set()
                await asyncio.gather(*readers)
                after = await _reads(client, base, headers)

    assert {status for *_, status in log} == {200}, log
    during = [entry for entry in log if entry[0] < ended and entry[1] > began]
    assert during, "no read overlapped the migration"
    assert before == after
    print(
        f"\n{newest[0]} applied in {(ended - began) * 1000:.0f} ms over the previous schema "
        f"({previous[0]}) while {READERS} readers ran: {len(log)} reads, {len(during)} during "
        f"it, all 200"
    )


async def _reads(client: httpx.AsyncClient, base: str, headers: dict[str, str]) -> Any:
    """A list page, a userName filter and a read by id: what an IdP's sync reads."""
    page = await client.get(f"{base}/Users", params={"count": 20}, headers=headers)
    assert page.status_code == 200, page.text
    first = page.json()["Resources"][0]
    found = await client.get(
        f"{base}/Users",
        params={"filter": f'userName eq "{first["userName"].upper()}"'},
        headers=headers,
    )
    one = await client.get(f"{base}/Users/{first['id']}", headers=headers)
    assert found.status_code == one.status_code == 200, (found.text, one.text)
    return page.json(), found.json()["totalResults"], one.json()


async def _read_until(
    stop: asyncio.Event,
    client: httpx.AsyncClient,
    base: str,
    headers: dict[str, str],
    log: list[tuple[float, float, int]],
) -> None:
    while not stop.is_set():
        started = time.monotonic()
        key = uuid.uuid4().hex
        answer = await client.get(
            f"{base}/Users", params={"filter": f'userName eq "{key}"'}, headers=headers
        )
        log.append((started, time.monotonic(), answer.status_code))
        listed = await client.get(f"{base}/Users", params={"count": 10}, headers=headers)
        log.append((started, time.monotonic(), listed.status_code))
