"""What the recorder keeps, on both databases: attribute names and never their values, each
credential by its masked label and never the token, secret or Basic password; a request to
a practice that does not exist is not kept; entries past the retention are purged by the
server itself at start-up."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import sqlite3
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

import server.activity.plugin as activity_plugin
from server.activity.records import ActivityEntry, ActivityQuery
from server.activity.service import as_dict
from server.app import create_app
from server.domain.clock import utcnow
from server.persistence.repositories.activity import activity_log_of
from tests.activity.test_activity_api import flush
from tests.conftest import PUBLIC_URL, fetch_token

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from litestar import Litestar

    from server.ops.front import Front
    from server.persistence.store import PiccoloStore
    from server.settings import Settings
    from tests.conftest import PracticeFixture

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
VALUES = ["+1 555 0199", "ext-7731-zz", "rae.okafor.private@example.net", "Regional Manager"]


async def _stored(store: PiccoloStore, practice_id: str) -> list[dict[str, Any]]:
    entries = await activity_log_of(store).list(uuid.UUID(practice_id), ActivityQuery(limit=1000))
    return [as_dict(e) for e in entries]


async def test_names_are_kept_values_and_secrets_never(
    client: AsyncTestClient[Litestar], app: Front, practice: PracticeFixture, store: PiccoloStore
) -> None:
    scim = practice.scim_path
    made = await client.post(f"{practice.management_path}/tokens", headers=practice.admin_headers)
    static = made.json()["token"]
    basic = base64.b64encode(f"{practice.client_id}:{practice.client_secret}".encode()).decode()
    body = {
        "schemas": [USER],
        "userName": "rae.okafor@example.org",
        "externalId": VALUES[1],
        "name": {"givenName": "Rae", "familyName": "Okafor"},
        "emails": [{"type": "work", "value": VALUES[2], "primary": True}],
        "phoneNumbers": [{"type": "mobile", "value": VALUES[0]}],
        "title": VALUES[3],
    }
    created = await client.post(
        f"{scim}/Users", json=body, headers={"Authorization": f"Bearer {static}"}
    )
    assert created.status_code == 201
    user = created.json()["id"]
    patch = {
        "schemas": [PATCH],
        "Operations": [
            {"op": "replace", "path": 'phoneNumbers[type eq "mobile"].value', "value": VALUES[0]},
            {"op": "replace", "value": {"name.familyName": "Okafor-Reyes", "title": VALUES[3]}},
        ],
    }
    changed = await client.patch(
        f"{scim}/Users/{user}", json=patch, headers={"Authorization": f"Basic {basic}"}
    )
    assert changed.status_code == 200
    wrong = base64.b64encode(f"{practice.client_id}:not-the-secret".encode()).decode()
    refused = await client.get(f"{scim}/Users", headers={"Authorization": f"Basic {wrong}"})
    assert refused.status_code == 401
    elsewhere = f"/scim/v2/{uuid.uuid4()}/Users"
    assert (await client.get(elsewhere, headers={"Authorization": f"Bearer {static}"})).status_code
    await flush(client, app)

    rows = await _stored(store, practice.id)
    assert [(r["operation"], r["credential"], r["status"]) for r in rows] == [
        ("user.search", "basic", 401),
        ("user.update", "basic", 200),
        ("user.create", "static", 201),
    ]
    assert rows[2]["credential_label"] == f"Static token …{static[-4:]}"
    assert rows[1]["credential_label"] == f"Basic, client …{practice.client_id[-4:]}"
    assert rows[2]["attributes"] == [
        "userName", "externalId", "name.givenName", "name.familyName", "emails", "phoneNumbers"
    ]  # fmt: skip
    assert rows[1]["attributes"] == ["phoneNumbers", "name.familyName"]  # title: not kept
    text = json.dumps(rows)
    for secret in (static, practice.client_secret, "not-the-secret", basic, wrong):
        assert secret not in text
    for value in VALUES:
        assert value not in text
    assert rows[1]["resource_name"] == "Rae Okafor-Reyes"


async def test_the_server_purges_entries_past_the_retention(
    settings: Settings, store: PiccoloStore, practice: PracticeFixture
) -> None:
    log = activity_log_of(store)
    now = utcnow()
    base = ActivityEntry(
        id=uuid.uuid4(), practice_id=uuid.UUID(practice.id), at=now, request_id="r",
        method="GET", route="/scim/v2/{practice_id}/Users", operation="user.search",
        status=200, credential="oauth", credential_label="OAuth client", user_agent="t",
    )  # fmt: skip
    old = replace(base, id=uuid.uuid4(), at=now - timedelta(days=31))
    recent = replace(
        base, id=uuid.uuid4(), at=now - timedelta(days=29), detail="0", resource_type="Group",
        resource_id="g1", resource_name="Nurses", attributes=("members",),
    )  # fmt: skip
    await log.add_many([old, recent])
    app = create_app(replace(settings, activity_retention_days=30))
    async with AsyncTestClient(app=app, base_url=PUBLIC_URL) as started:
        assert (await started.get("/healthz")).status_code == 200
    kept = await log.list(uuid.UUID(practice.id), ActivityQuery(limit=10))
    assert kept == [recent]  # read back as written: the time, None, text such as "0"


@contextlib.asynccontextmanager
async def _write_lock(database_url: str) -> AsyncIterator[None]:
    """Another session holding the lock a staff write waits for, on either database."""
    if database_url.startswith("sqlite"):
        writer = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        return
    blocker = await asyncpg.connect(database_url)
    try:
        async with blocker.transaction():
            await blocker.execute("LOCK TABLE staff_user IN ACCESS EXCLUSIVE MODE")
            yield
    finally:
        await blocker.close()


async def _stalled(*args: object, **kwargs: object) -> None:
    await asyncio.sleep(60)  # cut by the request's deadline long before


@pytest.mark.parametrize("cause", ["deadline", "database-busy"])
async def test_a_503_is_recorded_in_plain_words(
    settings: Settings,
    store: PiccoloStore,
    practice: PracticeFixture,
    monkeypatch: pytest.MonkeyPatch,
    cause: str,
) -> None:
    deadline = cause == "deadline"
    timeouts = {"request_timeout_seconds": 0.5} if deadline else {"database_timeout_seconds": 0.5}
    app = create_app(replace(settings, **timeouts))
    async with AsyncTestClient(app=app, base_url=PUBLIC_URL) as started:
        headers = {"Authorization": f"Bearer {await fetch_token(started, practice)}"}
        body = {"schemas": [USER], "userName": "late.arrival@example.org"}
        if deadline:
            with monkeypatch.context() as patched:
                patched.setattr(app.state.services.store.staff, "add", _stalled)
                refused = await started.post(
                    f"{practice.scim_path}/Users", json=body, headers=headers
                )
        else:
            async with _write_lock(settings.database_url):
                refused = await started.post(
                    f"{practice.scim_path}/Users", json=body, headers=headers
                )
        assert refused.status_code == 503, refused.text
        await asyncio.to_thread(started.blocking_portal.call, app.state.activity_recorder.flush)
    rows = await _stored(store, practice.id)
    assert [(r["operation"], r["status"]) for r in rows] == [("user.create", 503)]
    assert rows[0]["request_id"] == refused.headers["x-request-id"]
    wanted = "took too long" if deadline else "database was busy"
    assert wanted in rows[0]["explanation"], rows[0]["explanation"]
    assert "identity provider may retry" in rows[0]["explanation"]


async def test_a_clean_stop_writes_every_queued_request(
    settings: Settings,
    store: PiccoloStore,
    practice: PracticeFixture,
    token_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No flush asked for: what the recorder still holds when the app stops is written then
    (an hour between batches, so nothing is written before the stop)."""
    monkeypatch.setattr(activity_plugin, "FLUSH_SECONDS", 3600.0)
    app = create_app(settings)
    async with AsyncTestClient(app=app, base_url=PUBLIC_URL) as started:
        for n in range(30):
            found = await started.get(
                f"{practice.scim_path}/Users?count={n}", headers=token_headers
            )
            assert found.status_code == 200
        assert app.state.activity_recorder.queued == 30
    kept = await activity_log_of(store).list(uuid.UUID(practice.id), ActivityQuery(limit=100))
    assert len(kept) == 30
    assert {e.operation for e in kept} == {"user.search"}
    assert {e.credential for e in kept} == {"oauth"}
