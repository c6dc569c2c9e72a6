"""Shared fixtures. Every database-backed test runs once on SQLite and once on PostgreSQL.

PostgreSQL comes from ``SCIMLAB_TEST_POSTGRES_URL`` (default: the local server, database
``test``). Each run creates its own database and drops it at the end, so runs never
collide. An unreachable PostgreSQL fails the run; it is never skipped.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.persistence.store import PiccoloStore, open_store
from server.services import Services
from server.settings import Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from litestar import Litestar

POSTGRES_URL = os.environ.get(
    "SCIMLAB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
PUBLIC_URL = "http://scimlab.test"
BACKENDS = ["sqlite", "postgresql"]
#: ``SCIMLAB_SECRET_KEY`` of the in-process apps and of the ``store`` fixture: TOTP secrets
#: are encrypted in tests as in production (a key for tests only).
TEST_SECRET_KEY = "2hkmD_EMB1EXkbj911YOeneiMtBCy5tE3OJaTIeXIt8="


#: Seconds each slow test file keeps one worker busy, measured with ``--durations``; see
#: ``pytest_collection_modifyitems`` below.
FILE_SECONDS: dict[str, float] = json.loads(
    (Path(__file__).with_name("file_seconds.json")).read_text()
)
#: What a file not in ``file_seconds.json`` counts for each of its tests.
SECONDS_PER_TEST = 0.2


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``-n 2 --dist loadfile``), put the test files longest first.

    Each file goes whole to one worker, in the order of the collection (``addopts`` turns off
    xdist's own reordering, which puts the files with the most tests first and so leaves the
    few long ones, a browser or reliability file, for last while the other worker is idle).
    Longest first ends both workers at nearly the same time. A serial run keeps pytest's
    order, which sets each database's session fixtures up once."""
    if not hasattr(config, "workerinput"):
        return
    files: dict[str, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::", 1)[0], []).append(item)

    def seconds(file: str) -> float:
        return FILE_SECONDS.get(file, SECONDS_PER_TEST * len(files[file]))

    items[:] = [item for file in sorted(files, key=seconds, reverse=True) for item in files[file]]


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
async def postgres_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this run, dropped afterwards."""
    name = f"scimlab_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(POSTGRES_URL, timeout=10)
    except (OSError, asyncpg.PostgresError) as error:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is unreachable: {error}", pytrace=False)
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


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "scimlab.db"
    return f"sqlite:///{path}"


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_database"))


# Console sign-in limits no in-process test reaches (one test client is one source address).
SIGN_IN_UNLIMITED = {
    "sign_in_rate_limit": 1e6,
    "sign_in_rate_burst": 1_000_000,
    "sign_in_account_rate_limit": 1e6,
    "sign_in_account_rate_burst": 1_000_000,
}
# Limits no in-process test reaches (tests/reliability builds apps with low ones).
UNLIMITED = {
    "scim_rate_limit": 1e6,
    "scim_rate_burst": 1_000_000,
    "token_rate_limit": 1e6,
    "token_rate_burst": 1_000_000,
    "failed_auth_rate_limit": 1e6,
    "failed_auth_burst": 1_000_000,
    **SIGN_IN_UNLIMITED,
}


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, public_url=PUBLIC_URL, secret_key=TEST_SECRET_KEY, **UNLIMITED
    )


@pytest.fixture(scope="session")
async def store(database_url: str) -> AsyncIterator[PiccoloStore]:
    opened = await open_store(database_url, secret_keys=[TEST_SECRET_KEY])
    yield opened
    await opened.close()


@pytest.fixture(scope="session")
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url=PUBLIC_URL) as test_client:
        yield test_client


@dataclass(frozen=True)
class PracticeFixture:
    """A practice with SCIM enabled, as the CLI or the management API would leave it."""

    id: str
    admin_api_key: str
    client_id: str
    client_secret: str

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_api_key}"}

    @property
    def scim_path(self) -> str:
        return f"/scim/v2/{self.id}"

    @property
    def management_path(self) -> str:
        return f"/api/v1/practices/{self.id}/scim"


async def new_practice(
    client: AsyncTestClient[Any], store: PiccoloStore, settings: Settings
) -> PracticeFixture:
    services = Services.build(store, settings)
    created = await services.practices.create_practice(
        f"Practice {uuid.uuid4().hex[:6]}", actor="test"
    )
    response = await client.post(
        f"/api/v1/practices/{created.practice.id}/scim/enable",
        headers={"Authorization": f"Bearer {created.admin_api_key}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return PracticeFixture(
        id=str(created.practice.id),
        admin_api_key=created.admin_api_key,
        client_id=body["client_id"],
        client_secret=body["client_secret"],
    )


@pytest.fixture
async def practice(
    client: AsyncTestClient[Any], store: PiccoloStore, settings: Settings
) -> PracticeFixture:
    return await new_practice(client, store, settings)


async def fetch_token(client: AsyncTestClient[Any], practice: PracticeFixture) -> str:
    response = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": practice.client_id,
            "client_secret": practice.client_secret,
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def bearer_headers(client: AsyncTestClient[Any], practice: PracticeFixture) -> dict[str, str]:
    """The ``Authorization`` header of a fresh access token of ``practice``."""
    return {"Authorization": f"Bearer {await fetch_token(client, practice)}"}


@pytest.fixture
async def token_headers(client: AsyncTestClient[Any], practice: PracticeFixture) -> dict[str, str]:
    return {**await bearer_headers(client, practice), "Content-Type": "application/scim+json"}
