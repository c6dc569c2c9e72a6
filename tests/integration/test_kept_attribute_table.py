"""One table of kept User attributes (``server.domain.user_attributes``): adding a row is all
a new kept attribute needs.

The test keeps ``title`` (RFC 7643 §4.1.1, case-insensitive text) for its own length: one row
in the table and its columns in the test's own database (what a migration would add), and
nothing else. It then round-trips through every operation: POST, GET, list, filter, sort,
PATCH with and without a path, PUT, ``.search`` and reads by id gathered in one turn. The lists
derived from the table beside the SCIM ones follow it too: the fields the identity provider
owns (read-only in the platform), the fields the audit log names, and the key columns that
``rekey`` recomputes.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.console.staff import PROFILE_FIELDS
from server.domain.text import text_key
from server.domain.user_attributes import USER_ATTRIBUTES, UserAttribute, idp_owned_fields
from server.persistence.fixed_statements import Statement
from server.persistence.rekey import rekey
from server.persistence.rows import staff_columns, undeclared_columns
from server.persistence.store import open_store
from server.persistence.tables import StaffUserTable, bind_tables
from server.settings import Settings
from tests.conftest import (
    POSTGRES_URL,
    PUBLIC_URL,
    TEST_SECRET_KEY,
    UNLIMITED,
    bearer_headers,
    new_practice,
    with_database,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from server.persistence.store import PiccoloStore
    from tests.conftest import PracticeFixture

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
TITLE = UserAttribute("title", "title", idp_owned=True)


@pytest.fixture
async def fresh_database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database of this test alone: the columns it adds reach no other test."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'title.db'}"
        return
    name = f"scimlab_title_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_URL, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield with_database(POSTGRES_URL, name)
    admin = await asyncpg.connect(POSTGRES_URL, timeout=10)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def scim(
    fresh_database: str,
) -> AsyncIterator[tuple[AsyncTestClient[Any], str, Any, PiccoloStore, PracticeFixture]]:
    """A server keeping ``title``: (client, the practice's SCIM base path, headers, the
    store, the practice)."""
    # The schema first, as ``scimlab migrate`` would leave it with the attribute's migration:
    # its column and its text_key copy.
    migrated = await open_store(fresh_database, secret_keys=[TEST_SECRET_KEY])
    try:
        for column, kind in ((TITLE.column, "VARCHAR(256)"), (TITLE.key_column, "TEXT")):
            await migrated.direct.fetch(
                Statement.of(f"ALTER TABLE staff_user ADD COLUMN {column} {kind}")
            )
    finally:
        await migrated.close()
    settings = Settings(
        database_url=fresh_database, public_url=PUBLIC_URL, secret_key=TEST_SECRET_KEY, **UNLIMITED
    )
    with USER_ATTRIBUTES.extended(TITLE):
        store = await open_store(fresh_database, secret_keys=[TEST_SECRET_KEY])
        try:
            async with AsyncTestClient(app=create_app(settings), base_url=PUBLIC_URL) as client:
                practice = await new_practice(client, store, settings)
                headers = {
                    **await bearer_headers(client, practice),
                    "Content-Type": "application/scim+json",
                }
                yield client, f"{practice.scim_path}/Users", headers, store, practice
        finally:
            await store.close()


def _titles(body: dict[str, Any]) -> list[Any]:
    return [resource.get("title") for resource in body["Resources"]]


async def test_a_kept_attribute_added_to_the_table_round_trips(
    scim: tuple[AsyncTestClient[Any], str, dict[str, str], PiccoloStore, PracticeFixture],
) -> None:
    client, users, headers, _, _ = scim
    created = await client.post(
        users,
        json={"schemas": [USER], "userName": "ada@example.org", "title": "Head Nurse"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["title"] == "Head Nurse"
    user = f"{users}/{created.json()['id']}"
    other = await client.post(
        users, json={"schemas": [USER], "userName": "bo@example.org"}, headers=headers
    )
    assert other.status_code == 201, other.text
    assert "title" not in other.json()

    read = await client.get(user, headers=headers)
    assert read.json()["title"] == "Head Nurse"
    # Selected attributes go through scim2-models: the same value.
    selected = await client.get(user, params={"attributes": "title"}, headers=headers)
    assert selected.json()["title"] == "Head Nurse"
    # Reads by id of one event-loop turn (one batch statement on SQLite).
    both = await asyncio.gather(
        client.get(user, headers=headers),
        client.get(f"{users}/{other.json()['id']}", headers=headers),
    )
    assert [r.json().get("title") for r in both] == ["Head Nurse", None]

    listed = await client.get(users, params={"sortBy": "title"}, headers=headers)
    assert _titles(listed.json()) == ["Head Nurse", None]  # absent values sort last
    for expression in ('title eq "head nurse"', 'title sw "HEAD"', "title pr"):
        found = await client.get(users, params={"filter": expression}, headers=headers)
        assert _titles(found.json()) == ["Head Nurse"], expression
    missing = await client.get(users, params={"filter": 'title eq "Porter"'}, headers=headers)
    assert missing.json()["totalResults"] == 0

    patched = await client.patch(
        user,
        json={
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "path": "title", "value": "Matron"}],
        },
        headers=headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "Matron"
    pathless = await client.patch(
        user,
        json={"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"title": "Sister"}}]},
        headers=headers,
    )
    assert pathless.json()["title"] == "Sister"
    # A body the fast PATCH path leaves to scim2-models (two attributes, one removed).
    removed = await client.patch(
        user,
        json={
            "schemas": [PATCH],
            "Operations": [
                {"op": "remove", "path": "title"},
                {"op": "add", "path": "title", "value": "Ward Sister"},
            ],
        },
        headers=headers,
    )
    assert removed.json()["title"] == "Ward Sister"
    assert (await client.get(user, headers=headers)).json()["title"] == "Ward Sister"

    replaced = await client.put(
        user,
        json={"schemas": [USER], "userName": "ada@example.org", "title": "Charge Nurse"},
        headers=headers,
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["title"] == "Charge Nurse"

    searched = await client.post(
        f"{users}/.search",
        json={"schemas": [SEARCH], "filter": 'title co "charge"', "attributes": ["title"]},
        headers=headers,
    )
    assert searched.status_code == 200, searched.text
    assert _titles(searched.json()) == ["Charge Nurse"]

    cleared = await client.put(
        user, json={"schemas": [USER], "userName": "ada@example.org"}, headers=headers
    )
    assert "title" not in cleared.json()
    gone = await client.get(users, params={"filter": "title pr"}, headers=headers)
    assert gone.json()["totalResults"] == 0
    assert UUID(created.json()["id"])


async def test_a_kept_attribute_added_to_the_table_is_locked_audited_and_rekeyed(
    scim: tuple[AsyncTestClient[Any], str, dict[str, str], PiccoloStore, PracticeFixture],
) -> None:
    client, users, headers, store, practice = scim
    assert "title" in idp_owned_fields()
    created = await client.post(
        users,
        json={"schemas": [USER], "userName": "ada@example.org", "title": "Head Nurse"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]

    # Owned by the identity provider: the staff API lists it read-only.
    staff_api = f"/api/v1/practices/{practice.id}/staff/{user_id}"
    staff = (await client.get(staff_api, headers=practice.admin_headers)).json()
    assert sorted(staff["read_only_fields"]) == [
        "cell_phone",
        "family_name",
        "given_name",
        "title",
        "user_name",
    ]

    # A change of it is named in the audit log.
    patched = await client.patch(
        f"{users}/{user_id}",
        json={
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "path": "title", "value": "Matron"}],
        },
        headers=headers,
    )
    assert patched.status_code == 200, patched.text
    details = [
        entry.detail
        for entry in await store.audit.list(UUID(practice.id), limit=100)
        if entry.action == "scim.user_updated"
    ]
    assert details == [f"staff={user_id} fields=title"]

    # Its text_key copy is one that rekey recomputes.
    table = bind_tables(store.engine).staff_user
    await table.update({"title_key": "stale"}).where(table.id == UUID(user_id)).run()
    report = await rekey(store.engine, apply=True)
    assert report.changed == 1
    rows = await table.select().where(table.id == UUID(user_id)).run()
    assert rows[0]["title_key"] == text_key("Matron")


def test_the_schema_declares_every_kept_attribute() -> None:
    """The piccolo schema (what migrations are written against) has a column for each
    attribute kept by default, and its text_key copy; the other columns are the account's."""
    declared = {column._meta.db_column_name for column in StaffUserTable._meta.columns}
    kept = {a.column for a in USER_ATTRIBUTES.attributes}
    keys = {a.key_column for a in USER_ATTRIBUTES.attributes if a.key_column}
    assert undeclared_columns(StaffUserTable) == {}
    assert declared - kept - keys == {*staff_columns(), "api_key_hash"} - kept


def test_the_console_form_edits_kept_attributes_and_has_each_idp_owned_one() -> None:
    """The console's staff form is the platform's own (inputs written in its template), not
    derived: it edits only kept attributes, and has an input (disabled for a provisioned
    account) for each field the identity provider owns by default."""
    kept = {a.field for a in USER_ATTRIBUTES.attributes}
    assert set(PROFILE_FIELDS) <= kept
    assert set(idp_owned_fields()) <= set(PROFILE_FIELDS)
