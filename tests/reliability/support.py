"""Helpers for the reliability suite: fresh deployments, servers on real sockets, database
dumps, and the error formats every refusal must have."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx

from server.app import create_app
from server.persistence.store import PiccoloStore, open_store
from server.settings import Settings
from tests import served
from tests.conftest import POSTGRES_URL, PUBLIC_URL, UNLIMITED, with_database

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from litestar import Litestar

SCIMLAB = str(Path(sys.executable).parent / "scimlab")
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_TYPES = {
    "invalidFilter", "tooMany", "uniqueness", "mutability", "invalidSyntax",
    "invalidPath", "noTarget", "invalidValue", "invalidVers", "sensitive",
}  # fmt: skip
# RFC 6749 §5.2 plus the registered slow_down (RFC 8628) and temporarily_unavailable.
OAUTH_ERRORS = {
    "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
    "unsupported_grant_type", "invalid_scope", "slow_down", "temporarily_unavailable",
    "server_error",
}  # fmt: skip
# What ``UNLIMITED`` says, for servers started as processes.
UNLIMITED_ENV = {
    "SCIMLAB_SCIM_RATE_LIMIT": "1000000",
    "SCIMLAB_SCIM_RATE_BURST": "1000000",
    "SCIMLAB_TOKEN_RATE_LIMIT": "1000000",
    "SCIMLAB_TOKEN_RATE_BURST": "1000000",
    "SCIMLAB_SIGN_IN_RATE_LIMIT": "1000000",
    "SCIMLAB_SIGN_IN_RATE_BURST": "1000000",
    "SCIMLAB_SIGN_IN_ACCOUNT_RATE_LIMIT": "1000000",
    "SCIMLAB_SIGN_IN_ACCOUNT_RATE_BURST": "1000000",
}
# Operational state, not data: rate-limit buckets and piccolo's migration ledger.
# scim_activity logs every request, refused ones too (that is its point), in the background:
# a record of the request, not data the request changed.
UNDUMPED = {"scimlab_rate_bucket", "migration", "scim_activity"}

_SCALE = os.environ.get("SCIMLAB_RELIABILITY_SCALE", "ci")


def sized(ci: int, full: int) -> int:
    """The bounded size CI runs, or the full one (``SCIMLAB_RELIABILITY_SCALE=full``)."""
    return full if _SCALE == "full" else ci


def user_body(user_name: str, **extra: Any) -> dict[str, Any]:
    return {"schemas": [USER_SCHEMA], "userName": user_name, **extra}


# --- error formats -------------------------------------------------------------------------


def assert_scim_error(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """RFC 7644 §3.12, with the request id of the ``X-Request-ID`` header in ``detail``."""
    assert response.status_code >= 400, response.text
    if status is not None:
        assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/scim+json"), response.text
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA], body
    assert body["status"] == str(response.status_code), body
    assert body.get("scimType") is None or body["scimType"] in SCIM_TYPES, body
    request_id = response.headers["x-request-id"]
    assert request_id in body["detail"], body
    assert "Traceback" not in response.text
    return dict(body)


def assert_oauth_error(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """RFC 6749 §5.2: JSON ``error`` (registered code), ``error_description``, no-store."""
    assert response.status_code >= 400, response.text
    if status is not None:
        assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] in OAUTH_ERRORS, body
    assert isinstance(body.get("error_description"), str), body
    assert body["request_id"] == response.headers["x-request-id"], body
    return dict(body)


def assert_api_error(response: httpx.Response) -> dict[str, Any]:
    """Management API errors: ``status_code``, ``detail`` and the request id."""
    assert response.status_code >= 400, response.text
    body = response.json()
    assert body["status_code"] == response.status_code, body
    assert body["request_id"] == response.headers["x-request-id"], body
    assert "Traceback" not in response.text
    return dict(body)


# --- databases -----------------------------------------------------------------------------


@asynccontextmanager
async def fresh_database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database of the backend's kind, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / f'{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"scimlab_rel_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_URL, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield with_database(POSTGRES_URL, name)
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


class Dumper:
    """Every row of every table (ordered), to prove a refused request changed nothing."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._pg: Any = None
        self._sqlite: sqlite3.Connection | None = None

    async def __aenter__(self) -> Dumper:
        if self.url.startswith("sqlite"):
            self._sqlite = sqlite3.connect(self.url.removeprefix("sqlite:///"))
        else:
            self._pg = await asyncpg.connect(self.url)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._pg is not None:
            await self._pg.close()

    async def dump(self) -> dict[str, list[str]]:
        if self._sqlite is not None:
            tables = [
                r[0]
                for r in self._sqlite.execute("SELECT name FROM sqlite_master WHERE type='table'")
                if r[0] not in UNDUMPED and not r[0].startswith("sqlite_")
            ]
            return {
                t: sorted(repr(row) for row in self._sqlite.execute(f'SELECT * FROM "{t}"'))  # noqa: S608
                for t in tables
            }
        rows = await self._pg.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        )
        tables = [r[0] for r in rows if r[0] not in UNDUMPED]
        query = " UNION ALL ".join(
            f"SELECT '{t}', coalesce((SELECT json_agg(x::text ORDER BY x::text) "  # noqa: S608
            f"FROM \"{t}\" x), '[]')::text"
            for t in tables
        )
        return {name: json.loads(data) for name, data in await self._pg.fetch(query)}


# --- in-process deployments -------------------------------------------------------------------


@dataclass
class Deployment:
    url: str
    settings: Settings
    app: Litestar
    client: httpx.AsyncClient
    store: PiccoloStore

    def client_from(self, address: str) -> httpx.AsyncClient:
        """Another client, on another source address, of the same running app."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL)


@asynccontextmanager
async def deployment(backend: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[Deployment]:
    """A fresh database and an app on it (unlimited unless ``overrides`` set limits).

    The app runs in the test's own event loop through httpx's ASGI transport, so requests
    really overlap (Litestar's test client handles one request at a time, on another loop).
    """
    async with fresh_database(backend, tmp_path) as url:
        options: dict[str, Any] = {"public_url": PUBLIC_URL, **UNLIMITED, **overrides}
        settings = Settings(database_url=url, **options)
        app = create_app(settings)
        async with running(app):
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
            async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
                store = await open_store(url, migrate=False)
                try:
                    yield Deployment(url, settings, app, client, store)
                finally:
                    await store.close()


@asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[None]:
    """The app's lifespan, entered and left in one task of its own (fixtures of a wider
    scope set up and tear down in different tasks, which anyio's scopes refuse)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(lifespan())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # start-up failed: raise its error
    try:
        yield
    finally:
        stop.set()
        await task


# --- servers on real sockets --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli_json(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [SCIMLAB, *args], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return dict(json.loads(done.stdout))


@dataclass
class Server:
    """``scimlab serve`` in its own process group (granian's workers die with it)."""

    database_url: str
    log_path: Path
    workers: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "SCIMLAB_DATABASE_URL": self.database_url,
            "SCIMLAB_PUBLIC_URL": self.base,
            **self.extra_env,
        }

    def start(self, timeout: float = 30.0) -> Server:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [SCIMLAB, "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        msg = f"server did not start:\n{self.log_path.read_text()[-3000:]}"
        raise RuntimeError(msg)

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown, no flush, no goodbye."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        self.process = None

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()


def enable_practice(env: dict[str, str]) -> dict[str, str]:
    """A practice with SCIM enabled, through the command line (in this process: a set-up
    step, not what the tests check): ids and credentials."""
    name = f"Clinic {uuid.uuid4().hex[:6]}"
    practice = served.cli_json(served.cli_in_process("practice", "create", name, "--json", env=env))
    pid = practice["practice_id"]
    scim = served.cli_json(
        served.cli_in_process("scim", "enable", "--practice", pid, "--json", env=env)
    )
    return {
        "practice_id": practice["practice_id"],
        "api_key": practice["admin"]["api_key"],
        "password": practice["admin"]["password"],
        **scim,
    }


async def bearer(http: httpx.AsyncClient, token_url: str, credentials: dict[str, str]) -> str:
    for _ in range(50):
        response = await http.post(
            token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"],
            },
        )
        if response.status_code == 200:
            return str(response.json()["access_token"])
        await asyncio.sleep(0.2)
    msg = f"no token: {response.status_code} {response.text}"
    raise AssertionError(msg)


async def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of one read-only query, straight from the database (not through the app)."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return [tuple(row) for row in connection.execute(sql)]
        finally:
            connection.close()
    pg = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await pg.fetch(sql)]
    finally:
        await pg.close()


DUPLICATE_NAMES = """
SELECT practice_id, user_name_key, count(*) FROM staff_user
WHERE user_name_key IS NOT NULL GROUP BY practice_id, user_name_key HAVING count(*) > 1
"""
