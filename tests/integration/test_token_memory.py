"""A token found valid is remembered only while the database is unchanged (SQLite's data
version), so a revocation from anywhere, another process included, is seen at once."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from server.security import hash_secret
from tests.integration.test_persistence import _config, _token

if TYPE_CHECKING:
    import pytest

    from server.persistence.store import PiccoloStore


def _count_queries(store: PiccoloStore, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    asked: list[Any] = []
    fetch = store.direct.fetch

    async def counted(statement: Any, *args: Any) -> Any:
        asked.append(statement)
        return await fetch(statement, *args)

    monkeypatch.setattr(store.direct, "fetch", counted)
    return asked


async def test_a_valid_token_is_queried_again_only_after_a_write(
    store: PiccoloStore, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = await _config(store)
    token = hash_secret(await _token(store, config))
    other = await _config(store)  # a write elsewhere, made before the checks start
    asked = _count_queries(store, monkeypatch)
    now = datetime.now(UTC)
    for _ in range(3):
        assert await store.tokens.credential_for(token, config.practice_id, now)
    # PostgreSQL has no such stamp: every check asks.
    assert len(asked) == (1 if backend == "sqlite" else 3)
    # Any committed write makes the next check ask, even one about another practice.
    await store.scim_configs.save(replace(other, secret_hint="wxyz"))
    assert await store.tokens.credential_for(token, config.practice_id, now)
    assert len(asked) == (2 if backend == "sqlite" else 4)


async def test_a_remembered_token_still_expires(
    store: PiccoloStore, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = await _config(store)
    now = datetime.now(UTC)
    token = hash_secret(await _token(store, config, expires_at=now + timedelta(minutes=5)))
    assert await store.tokens.credential_for(token, config.practice_id, now)
    asked = _count_queries(store, monkeypatch)
    assert not await store.tokens.credential_for(
        token, config.practice_id, now + timedelta(hours=1)
    )
    assert await store.tokens.credential_for(token, config.practice_id, now)
    assert len(asked) == (0 if backend == "sqlite" else 2)  # answered from memory


async def test_a_token_disabled_by_another_process_is_refused_at_once(
    store: PiccoloStore, backend: str, database_url: str
) -> None:
    config = await _config(store)
    token = hash_secret(await _token(store, config))
    now = datetime.now(UTC)
    assert await store.tokens.credential_for(token, config.practice_id, now)
    assert await store.tokens.credential_for(token, config.practice_id, now)
    if backend == "sqlite":
        # Another process's connection, as a second worker or `scimlab scim disable` has.
        other = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        try:
            other.execute(
                "UPDATE scim_config SET enabled = 0 WHERE practice_id = ?",
                [str(config.practice_id)],
            )
            other.commit()
        finally:
            other.close()
    else:
        await store.scim_configs.save(replace(config, enabled=False))
    assert not await store.tokens.credential_for(token, config.practice_id, now)


async def test_no_token_is_remembered_from_inside_a_transaction(
    store: PiccoloStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = await _config(store)
    token = hash_secret(await _token(store, config))
    now = datetime.now(UTC)
    asked = _count_queries(store, monkeypatch)
    async with store.transaction():
        assert await store.tokens.credential_for(token, config.practice_id, now)
        assert await store.tokens.credential_for(token, config.practice_id, now)
    assert len(asked) == 2
