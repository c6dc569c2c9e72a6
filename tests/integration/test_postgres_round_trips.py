"""Statements per SCIM request on PostgreSQL, each one a round trip: the bearer token's check
reads the account a read by id, PATCH or PUT goes on to read, or the SSO configuration a create
reads (``account_read_ahead``); a write and its audit entry are one statement.

Requests go straight into the ASGI app in the test's task, so the statements that task sends
are the request's own; the activity log's flush runs in a task of its own and is not counted.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import pytest

from loadtests.operation_cost import USER_SCHEMA, call_app
from loadtests.round_trips import counted_round_trips
from server.app import create_app
from server.domain.query import ResourceQuery
from server.domain.records import LinkRule
from server.persistence import account_read_ahead
from server.persistence.store import open_store
from server.services import Services
from server.settings import Settings
from tests.conftest import PUBLIC_URL, TEST_SECRET_KEY, UNLIMITED

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from server.persistence.store import PiccoloStore

PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ISSUER = "https://idp.example.org"


class Scim:
    def __init__(self, app: Any, users: str, token: str, database_url: str) -> None:
        self.app, self.users, self.token = app, users, token
        self.database_url = database_url
        self.practice = UUID(users.split("/")[3])

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> tuple[int, Any, list[str]]:
        """The status, body and the statements the request sent."""
        with counted_round_trips() as sent:
            status, answer = await call_app(
                self.app,
                method,
                path,
                self.token if token is None else token,
                body,
                headers=headers,
            )
        return status, answer, sent.by(asyncio.current_task())

    async def new_user(self, name: str) -> str:
        body = {"schemas": [USER_SCHEMA], "userName": f"{name}@example.org"}
        status, created, _ = await self.call("POST", self.users, body)
        assert status == 201, created
        return str(created["id"])

    @contextlib.asynccontextmanager
    async def store(self) -> AsyncIterator[PiccoloStore]:
        """The database, to see what requests left in it."""
        store = await open_store(self.database_url, migrate=False)
        try:
            yield store
        finally:
            await store.close()


@contextlib.asynccontextmanager
async def serving(postgres_database: str, *, sso: bool = False) -> AsyncIterator[Scim]:
    """A practice with a static token on an app served in the calling task (its lifespan
    opens and closes in one task), after a first request; ``sso``: the practice has SSO
    set up, linking accounts by userName."""
    settings = Settings(
        database_url=postgres_database,
        public_url=PUBLIC_URL,
        secret_key=TEST_SECRET_KEY,
        rate_limit_store="memory",
        **UNLIMITED,
    )
    store = await open_store(postgres_database, secret_keys=[TEST_SECRET_KEY])
    try:
        services = Services.build(store, settings)
        created = await services.practices.create_practice(f"Trips {uuid4().hex[:6]}", actor="t")
        practice_id = created.practice.id
        await services.practices.enable(practice_id, actor="t")
        token = await services.practices.create_static_token(practice_id, actor="t")
        if sso:
            await services.sso_configs.configure(
                practice_id,
                issuer=ISSUER,
                client_id="scimlab",
                client_secret="secret",
                link_rule=LinkRule.GOOGLE_EMAIL.value,
                metadata_url=None,
                actor="t",
            )
    finally:
        await store.close()
    app: Any = create_app(settings)
    async with app.lifespan():
        scim = Scim(app, f"/scim/v2/{practice_id}/Users", token.token, postgres_database)
        await scim.new_user("first")  # what a process reads once, before its first request
        yield scim


def _account_reads(statements: list[str]) -> list[str]:
    return [text for text in statements if "FROM staff_user u" in text]


async def test_a_read_by_id_is_one_statement_with_the_token_check(postgres_database: str) -> None:
    async with serving(postgres_database) as scim:
        user = await scim.new_user("reader")
        status, body, statements = await scim.call("GET", f"{scim.users}/{user}")
        assert status == 200, body
        assert body["userName"] == "reader@example.org"
        assert len(statements) == 1, statements
        assert "access_token" in statements[0]


async def test_an_unknown_user_is_404_in_one_statement(postgres_database: str) -> None:
    async with serving(postgres_database) as scim:
        status, body, statements = await scim.call("GET", f"{scim.users}/{uuid4()}")
        assert status == 404, body
        assert len(statements) == 1, statements


async def test_patch_and_put_read_the_account_only_with_the_token(postgres_database: str) -> None:
    async with serving(postgres_database) as scim:
        user = await scim.new_user("writer")
        change = {"op": "replace", "path": "name.givenName", "value": "Ada"}
        patch = {"schemas": [PATCH_SCHEMA], "Operations": [change]}
        status, body, patched = await scim.call("PATCH", f"{scim.users}/{user}", patch)
        assert status == 200, body
        assert body["name"]["givenName"] == "Ada"
        replacement = {"schemas": [USER_SCHEMA], "userName": "writer@example.org"}
        status, body, replaced = await scim.call("PUT", f"{scim.users}/{user}", replacement)
        assert status == 200, body
        assert "name" not in body or "givenName" not in body["name"]
        for statements in (patched, replaced):
            [account_read] = _account_reads(statements)
            assert "access_token" in account_read
            # token and account, then the UPDATE with the audit entry (with its actor)
            assert len(statements) == 2, statements
            assert statements.index(account_read) == 0
            assert statements[1].startswith("WITH written AS (UPDATE staff_user"), statements
            assert "INSERT INTO audit_event" in statements[1]
        async with scim.store() as store:
            actions = [e.action for e in await store.audit.list(scim.practice, limit=10)]
        assert actions.count("scim.user_updated") == 2, actions


async def test_a_refused_token_leaves_no_account_behind(postgres_database: str) -> None:
    async with serving(postgres_database) as scim:
        user = await scim.new_user("guarded")
        status, body, statements = await scim.call("GET", f"{scim.users}/{user}", token="wrong")
        assert status == 401, body
        assert "userName" not in body
        assert len(_account_reads(statements)) == 1, statements  # with the token only
        # the next request reads the account as it is now, not anything kept before
        replacement = {"schemas": [USER_SCHEMA], "userName": "renamed@example.org"}
        status, body, _ = await scim.call("PUT", f"{scim.users}/{user}", replacement)
        assert status == 200, body
        status, body, _ = await scim.call("GET", f"{scim.users}/{user}")
        assert status == 200, body
        assert body["userName"] == "renamed@example.org"


def test_kept_rows_are_taken_once_and_only_for_their_account() -> None:
    practice, account, other = uuid4(), uuid4(), uuid4()
    rows: list[Any] = [{"id": account}]
    account_read_ahead.keep(practice, account, rows)
    assert account_read_ahead.take(practice, other) is None
    assert account_read_ahead.take(practice, account) is None  # the wrong take forgot them
    account_read_ahead.keep(practice, account, rows)
    assert account_read_ahead.take(uuid4(), account) is None
    account_read_ahead.keep(practice, account, rows)
    assert account_read_ahead.take(practice, account) == rows
    assert account_read_ahead.take(practice, account) is None


@pytest.mark.parametrize("sso", [False, True])
async def test_a_create_is_the_token_check_then_one_write(
    postgres_database: str, *, sso: bool
) -> None:
    async with serving(postgres_database, sso=sso) as scim:
        body = {"schemas": [USER_SCHEMA], "userName": "Creator@Example.org"}
        status, created, statements = await scim.call("POST", scim.users, body)
        assert status == 201, created
        # the token with the practice's SSO configuration, then the account with its entry
        assert len(statements) == 2, statements
        assert "access_token" in statements[0]
        assert "sso_config" in statements[0]
        assert statements[1].startswith("WITH added AS (INSERT INTO staff_user"), statements
        assert "INSERT INTO audit_event" in statements[1]
        async with scim.store() as store:
            user = await store.staff.get(scim.practice, UUID(created["id"]))
            entries = await store.audit.list(scim.practice, limit=10)
        assert user is not None
        link = (ISSUER, "creator@example.org") if sso else (None, None)
        assert (user.sso_issuer, user.sso_subject) == link
        [entry] = [e for e in entries if e.action == "scim.user_created"][:1]
        assert entry.detail == f"staff={user.id}"
        assert entry.actor.startswith("idp:static:")


async def test_a_refused_create_or_change_writes_nothing(postgres_database: str) -> None:
    async with serving(postgres_database) as scim:
        user = await scim.new_user("holder")
        async with scim.store() as store:
            before = await store.audit.list(scim.practice, limit=100)
        taken = {"schemas": [USER_SCHEMA], "userName": "HOLDER@example.org"}
        status, body, statements = await scim.call("POST", scim.users, taken)
        assert status == 409, body
        assert body["scimType"] == "uniqueness"
        assert len(statements) == 2, statements

        other = await scim.new_user("other")
        async with scim.store() as store:
            before = await store.audit.list(scim.practice, limit=100)
            holder = await store.staff.get(scim.practice, UUID(user))
        status, body, statements = await scim.call("PUT", f"{scim.users}/{other}", taken)
        assert status == 409, body
        assert len(statements) == 2, statements

        change = {"op": "replace", "path": "name.givenName", "value": "Late"}
        stale = {"schemas": [PATCH_SCHEMA], "Operations": [change]}
        status, body, statements = await scim.call(
            "PATCH", f"{scim.users}/{user}", stale, headers=(("If-Match", 'W/"7"'),)
        )
        assert status == 412, body
        assert len(statements) == 1, statements  # the version read with the token refused it

        async with scim.store() as store:
            assert await store.audit.list(scim.practice, limit=100) == before
            assert await store.staff.get(scim.practice, UUID(user)) == holder
            total, _ = await store.staff.list_scim(
                scim.practice, ResourceQuery(predicate=None, offset=0, limit=10)
            )
        assert total == 3  # first, holder, other


def test_a_kept_sso_configuration_is_not_taken_for_an_account() -> None:
    practice, account = uuid4(), uuid4()
    rows: list[Any] = [{"practice_id": practice}]
    sso = account_read_ahead.SSO_CONFIG
    account_read_ahead.keep(practice, sso, rows)
    assert account_read_ahead.take(practice, account) is None
    assert account_read_ahead.take(practice, sso) is None  # the wrong take forgot them
    account_read_ahead.keep(practice, account, rows)
    assert account_read_ahead.take(practice, sso) is None
    account_read_ahead.keep(practice, sso, rows)
    assert account_read_ahead.take(uuid4(), sso) is None
    account_read_ahead.keep(practice, sso, ())
    assert account_read_ahead.take(practice, sso) == ()  # read: the practice has none
    assert account_read_ahead.take(practice, sso) is None


async def test_a_user_name_filter_is_one_statement_with_the_token_check(
    postgres_database: str,
) -> None:
    async with serving(postgres_database) as scim:
        await scim.new_user("Finder")
        for name, total in (("finder@example.org", 1), ("nobody@example.org", 0)):
            query = f'filter=userName eq "{name}"'.replace(" ", "%20").replace('"', "%22")
            status, body, statements = await scim.call("GET", f"{scim.users}?{query}")
            assert status == 200, body
            assert body["totalResults"] == total, body
            assert [r["userName"] for r in body["Resources"]] == ["Finder@example.org"][:total]
            assert len(statements) == 1, statements
            assert "access_token" in statements[0]
            assert "user_name_key" in statements[0]
        query = "filter=userName%20eq%20%22finder@example.org%22"
        status, body, _ = await scim.call("GET", f"{scim.users}?{query}", token="wrong")
        assert status == 401, body
        assert "Resources" not in body
