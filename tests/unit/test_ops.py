"""server/ops pieces on their own: settings, store choice, request ids, JSON lines, error
bodies, driver-error classification, token-bucket arithmetic."""

from __future__ import annotations

import json
import logging
import sqlite3

import asyncpg
import pytest

from server.ops.buckets import Draw, FailoverBuckets, MemoryBuckets
from server.ops.context import accept_request_id, request_id_var
from server.ops.edge import _with_request_id
from server.ops.logs import JsonFormatter, install_request_ids
from server.ops.plugin import bucket_stores
from server.persistence.availability import is_unavailable
from server.settings import Settings


def test_settings_from_env() -> None:
    settings = Settings.from_env(
        {
            "SCIMLAB_RATE_LIMIT_STORE": "Memory",
            "SCIMLAB_SCIM_RATE_LIMIT": "25",
            "SCIMLAB_SCIM_RATE_BURST": "100",
            "SCIMLAB_TOKEN_RATE_LIMIT": "2",
            "SCIMLAB_TOKEN_RATE_BURST": "20",
            "SCIMLAB_FAILED_AUTH_RATE_LIMIT": "0.5",
            "SCIMLAB_FAILED_AUTH_BURST": "10",
            "SCIMLAB_SIGN_IN_RATE_LIMIT": "0.5",
            "SCIMLAB_SIGN_IN_RATE_BURST": "12",
            "SCIMLAB_SIGN_IN_ACCOUNT_RATE_LIMIT": "0.1",
            "SCIMLAB_SIGN_IN_ACCOUNT_RATE_BURST": "4",
            "SCIMLAB_REQUEST_TIMEOUT": "12",
            "SCIMLAB_LOG_LEVEL": "debug",
        }
    )
    assert (settings.rate_limit_store, settings.scim_rate_limit, settings.scim_rate_burst) == (
        "memory",
        25.0,
        100,
    )
    assert (settings.token_rate_limit, settings.token_rate_burst) == (2.0, 20)
    assert (settings.failed_auth_rate_limit, settings.failed_auth_burst) == (0.5, 10)
    assert (settings.sign_in_rate_limit, settings.sign_in_rate_burst) == (0.5, 12)
    assert (settings.sign_in_account_rate_limit, settings.sign_in_account_rate_burst) == (0.1, 4)
    assert (settings.request_timeout_seconds, settings.log_level) == (12.0, "DEBUG")
    assert Settings.from_env({}) == Settings()


@pytest.mark.parametrize(
    ("store", "url", "kind"),
    [
        ("auto", "sqlite:///x.db", MemoryBuckets),
        ("auto", "postgresql://u@h/db", FailoverBuckets),
        ("memory", "postgresql://u@h/db", MemoryBuckets),
        ("database", "postgresql://u@h/db", FailoverBuckets),
        ("off", "postgresql://u@h/db", type(None)),
    ],
)
def test_bucket_store_choice(store: str, url: str, kind: type) -> None:
    stores = bucket_stores(Settings(database_url=url, rate_limit_store=store))
    assert isinstance(stores.requests if stores else None, kind)
    assert isinstance(stores.sign_in if stores else None, kind)


def test_a_shared_store_needs_postgresql() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        bucket_stores(Settings(database_url="sqlite:///x.db", rate_limit_store="database"))


@pytest.mark.parametrize(
    ("offered", "kept"),
    [("abc-123.def:ghi", True), ("short", False), ("x" * 65, False), ("a b\nc d e f", False)],
)
def test_request_ids_offered_by_callers(offered: str, kept: bool) -> None:
    assert (accept_request_id(offered) == offered) is kept
    assert len(accept_request_id(None)) == 32


def test_json_lines_carry_the_request_id() -> None:
    install_request_ids()
    token = request_id_var.set("rid-0000001")
    try:
        record = logging.getLogger("scimlab.test").makeRecord(
            "scimlab.test", logging.INFO, __file__, 1, "hello %s", ("world",), None, extra={"k": 1}
        )
    finally:
        request_id_var.reset(token)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "hello world"
    assert entry["request_id"] == "rid-0000001"
    assert entry["k"] == 1


def test_error_bodies_get_the_request_id() -> None:
    scim = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "404",
        "detail": "gone",
    }
    assert json.loads(_with_request_id(json.dumps(scim).encode(), "r1") or b"")["detail"] == (
        "gone (request id r1)"
    )
    oauth = json.loads(_with_request_id(b'{"error": "invalid_client"}', "r2") or b"")
    assert oauth == {"error": "invalid_client", "request_id": "r2"}
    assert _with_request_id(b"[1, 2]", "r3") is None
    assert _with_request_id(b"not json", "r4") is None


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (asyncpg.exceptions.ConnectionDoesNotExistError("gone"), True),
        (asyncpg.exceptions.AdminShutdownError("terminating"), True),
        (asyncpg.exceptions.QueryCanceledError("statement timeout"), True),
        (asyncpg.exceptions.LockNotAvailableError("lock timeout"), True),
        (asyncpg.exceptions.SerializationError("could not serialize"), True),
        (asyncpg.exceptions.TooManyConnectionsError("too many"), True),
        (
            asyncpg.exceptions.ObjectNotInPrerequisiteStateError(
                "not currently accepting connections"
            ),
            True,
        ),
        (asyncpg.exceptions.InternalClientError("cannot switch to state 12"), True),
        (asyncpg.exceptions.UndefinedColumnError("no such column"), False),
        (asyncpg.exceptions.ObjectNotInPrerequisiteStateError("other"), False),
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.OperationalError("no such table: x"), False),
        (sqlite3.IntegrityError("UNIQUE constraint failed"), False),
    ],
)
def test_which_driver_errors_are_an_outage(error: Exception, transient: bool) -> None:
    assert is_unavailable(error) is transient


async def test_bucket_arithmetic() -> None:
    now = [0.0]
    buckets = MemoryBuckets(clock=lambda: now[0], max_keys=2)
    take = [Draw("a", rate=2, burst=3)]
    assert [await buckets.draw(take) for _ in range(4)] == [0, 0, 0, 0.5]
    now[0] = 0.5  # one token back
    assert await buckets.draw(take) == 0
    # Peek (cost 0) needs a token but takes none; refunds never exceed the burst.
    assert await buckets.draw([Draw("a", 2, 3, cost=0)]) == 0.5
    assert await buckets.draw([Draw("a", 2, 3, cost=-10, need=0)]) == 0
    assert [await buckets.draw(take) for _ in range(4)] == [0, 0, 0, 0.5]
    # All or nothing across buckets.
    assert await buckets.draw([Draw("b", 1, 1), Draw("a", 2, 3)]) > 0
    assert await buckets.draw([Draw("b", 1, 1)]) == 0
    # Least recently used keys are forgotten past max_keys (a forgotten bucket is full).
    await buckets.draw([Draw("c", 1, 1)])
    assert await buckets.draw(take) == 0
