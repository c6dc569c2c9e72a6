"""A SCIM write cut by its request deadline while it waits for another session's write lock,
on both databases: the client gets 503, the cut write leaves nothing written, the next writes
succeed once the lock is gone, and the stopped app leaves no connection or session behind."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import threading
import warnings
from dataclasses import replace
from typing import TYPE_CHECKING

import asyncpg
from litestar.testing import AsyncTestClient

from server.app import create_app
from tests.conftest import PUBLIC_URL, fetch_token

if TYPE_CHECKING:
    import pytest

    from server.settings import Settings
    from tests.conftest import PracticeFixture

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


async def _other_sessions(database_url: str) -> list[str]:
    """The states of every PostgreSQL session on the test database but the asking one."""
    asking = await asyncpg.connect(database_url)
    try:
        rows = await asking.fetch(
            "SELECT state FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await asking.close()
    return sorted(str(row["state"]) for row in rows)


def _take_the_write_lock_at_once(database_url: str) -> None:
    """Fails with 'database is locked' when any connection still holds SQLite's lock."""
    checker = sqlite3.connect(
        database_url.removeprefix("sqlite:///"), timeout=0.0, isolation_level=None
    )
    try:
        checker.execute("BEGIN EXCLUSIVE")
        checker.execute("ROLLBACK")
    finally:
        checker.close()


class _LockInAnotherThread:
    """Another session's write lock, held and released from a thread of its own: the test's
    event loop is blocked while the test client stops the app."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._held = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._hold, name="other session's lock")

    def take(self) -> None:
        self._thread.start()
        assert self._held.wait(timeout=10)

    def release_after(self, seconds: float) -> None:
        threading.Timer(seconds, self._release.set).start()

    def release(self) -> None:
        self._release.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _hold(self) -> None:
        if self._url.startswith("sqlite"):
            holder = sqlite3.connect(self._url.removeprefix("sqlite:///"), isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            self._held.set()
            self._release.wait(timeout=30)
            holder.execute("ROLLBACK")
            holder.close()
            return
        asyncio.run(self._hold_on_postgres())

    async def _hold_on_postgres(self) -> None:
        blocker = await asyncpg.connect(self._url)
        try:
            async with blocker.transaction():
                await blocker.execute("LOCK TABLE staff_user IN ACCESS EXCLUSIVE MODE")
                self._held.set()
                await asyncio.to_thread(self._release.wait, 30)
        finally:
            await blocker.close()


def _assert_no_connection_thread_left(threads_before: set[threading.Thread]) -> None:
    """Every aiosqlite connection the app opened is closed: its thread has ended."""
    left = [
        t
        for t in threading.enumerate()
        if t not in threads_before and "connection_worker" in t.name
    ]
    for thread in left:
        thread.join(timeout=1.0)  # a closed connection's thread ends right after
    assert [t.name for t in left if t.is_alive()] == []


async def test_a_write_cut_while_waiting_for_the_lock_leaves_nothing_behind(
    settings: Settings, practice: PracticeFixture, database_url: str
) -> None:
    postgres = not database_url.startswith("sqlite")
    sessions_before = await _other_sessions(database_url) if postgres else []
    threads_before = set(threading.enumerate())
    app = create_app(replace(settings, request_timeout_seconds=0.5))
    async with AsyncTestClient(app=app, base_url=PUBLIC_URL) as started:
        headers = {"Authorization": f"Bearer {await fetch_token(started, practice)}"}
        users = f"{practice.scim_path}/Users"
        cut_name = "cut.short@example.org"
        lock = _LockInAnotherThread(database_url)
        lock.take()
        try:
            for _ in range(5):  # more than the pool has connections
                cut = await started.post(
                    users, json={"schemas": [USER], "userName": cut_name}, headers=headers
                )
                assert cut.status_code == 503, cut.text
            await asyncio.sleep(0.2)  # the lock outlives the cut requests a little
        finally:
            lock.release()
        # A quiet moment once it is gone: a connection the cut request left waiting for the
        # lock would take it now (SQLite's busy wait may sleep a whole second between its
        # tries), and keep it.
        await asyncio.sleep(1.5)
        for name in (cut_name, "next.one@example.org", "after.that@example.org"):
            made = await started.post(
                users, json={"schemas": [USER], "userName": name}, headers=headers
            )
            assert made.status_code == 201, made.text
        found = await started.get(
            users, params={"filter": f'userName eq "{cut_name}"'}, headers=headers
        )
        assert found.json()["totalResults"] == 1  # the cut write never landed
    _assert_no_connection_thread_left(threads_before)
    if postgres:
        assert await _other_sessions(database_url) == sessions_before
    else:
        # A connection left waiting would take the lock once the app's own are closed.
        await asyncio.sleep(1.5)
        _take_the_write_lock_at_once(database_url)


async def test_the_app_stopping_while_a_cut_write_still_waits_leaves_nothing_behind(
    settings: Settings,
    practice: PracticeFixture,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The lock outlives the app's stop a little: the stop waits for the cut write's
    connection to end instead of leaving it, and its thread, behind a closed event loop."""
    postgres = not database_url.startswith("sqlite")
    sessions_before = await _other_sessions(database_url) if postgres else []
    thread_errors: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: thread_errors.append(args.exc_value))
    threads_before = set(threading.enumerate())
    app = create_app(replace(settings, request_timeout_seconds=0.5))
    users = f"{practice.scim_path}/Users"
    cut_name = "cut.at.the.stop@example.org"
    lock = _LockInAnotherThread(database_url)
    try:
        async with AsyncTestClient(app=app, base_url=PUBLIC_URL) as started:
            headers = {"Authorization": f"Bearer {await fetch_token(started, practice)}"}
            lock.take()
            cut = await started.post(
                users, json={"schemas": [USER], "userName": cut_name}, headers=headers
            )
            assert cut.status_code == 503, cut.text
            lock.release_after(0.5)  # while the app stops
    finally:
        lock.release()
    with warnings.catch_warnings(record=True) as dropped:
        warnings.simplefilter("always")
        gc.collect()  # a connection nobody closed says so when it is collected
    assert [str(w.message) for w in dropped if "before being closed" in str(w.message)] == []
    _assert_no_connection_thread_left(threads_before)
    # A connection left waiting would take the lock now (SQLite's busy wait may sleep a whole
    # second between its tries), and keep it behind the closed loop.
    await asyncio.sleep(1.5)
    assert thread_errors == []  # no 'Event loop is closed' from a connection's thread
    if postgres:
        assert await _other_sessions(database_url) == sessions_before
    else:
        _take_the_write_lock_at_once(database_url)
    async with AsyncTestClient(app=create_app(settings), base_url=PUBLIC_URL) as again:
        headers = {"Authorization": f"Bearer {await fetch_token(again, practice)}"}
        made = await again.post(
            users, json={"schemas": [USER], "userName": cut_name}, headers=headers
        )
        assert made.status_code == 201, made.text  # the cut write never landed
