"""Settings from the environment (server/settings.py) and the engine factory
(server/persistence/engine.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from server.persistence.engine import create_engine
from server.settings import DEFAULT_DATABASE_URL, Settings, describe_database

if TYPE_CHECKING:
    from pathlib import Path


def test_from_env_defaults() -> None:
    settings = Settings.from_env({})

    assert settings == Settings()
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///./scimlab.db"
    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.access_token_ttl_seconds == 3600
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.max_page_size == 1000
    assert settings.database_timeout_seconds == 10.0


@pytest.mark.parametrize(
    ("environ", "field", "expected"),
    [
        ({"SCIMLAB_DATABASE_URL": ""}, "database_url", "sqlite:///./scimlab.db"),
        (
            {"SCIMLAB_DATABASE_URL": "postgresql://u@db/scim"},
            "database_url",
            "postgresql://u@db/scim",
        ),
        ({"SCIMLAB_PUBLIC_URL": "https://scim.example/"}, "public_url", "https://scim.example"),
        ({"SCIMLAB_PUBLIC_URL": "https://scim.example///"}, "public_url", "https://scim.example"),
        ({"SCIMLAB_PUBLIC_URL": "https://x.example/base"}, "public_url", "https://x.example/base"),
        ({"SCIMLAB_PUBLIC_URL": ""}, "public_url", "http://127.0.0.1:8000"),
        ({"SCIMLAB_ACCESS_TOKEN_TTL": "60"}, "access_token_ttl_seconds", 60),
        ({"SCIMLAB_MAX_BODY_BYTES": "2048"}, "max_body_bytes", 2048),
        ({"SCIMLAB_MAX_PAGE_SIZE": "50"}, "max_page_size", 50),
        ({"SCIMLAB_DATABASE_TIMEOUT": "2.5"}, "database_timeout_seconds", 2.5),
    ],
)
def test_from_env_reads_each_variable(environ: dict[str, str], field: str, expected: Any) -> None:
    assert getattr(Settings.from_env(environ), field) == expected


def test_from_env_without_mapping_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCIMLAB_PUBLIC_URL", "https://env.example/")
    monkeypatch.delenv("SCIMLAB_DATABASE_URL", raising=False)

    settings = Settings.from_env()

    assert settings.public_url == "https://env.example"
    assert settings.database_url == DEFAULT_DATABASE_URL


@pytest.mark.parametrize(
    ("public_url", "scim_base_url", "token_url"),
    [
        (
            "http://127.0.0.1:8000",
            "http://127.0.0.1:8000/scim/v2/p-1",
            "http://127.0.0.1:8000/oauth/token",
        ),
        (
            "https://scim.example/",
            "https://scim.example/scim/v2/p-1",
            "https://scim.example/oauth/token",
        ),
    ],
)
def test_urls(public_url: str, scim_base_url: str, token_url: str) -> None:
    settings = Settings.from_env({"SCIMLAB_PUBLIC_URL": public_url})

    assert settings.scim_base_url("p-1") == scim_base_url
    assert settings.token_url == token_url


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///./x.db", "./x.db"),
        ("sqlite:///x.db", "x.db"),
        ("sqlite:///data/sub/x.db", "data/sub/x.db"),
    ],
)
def test_create_engine_sqlite_relative(
    url: str, path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    engine = create_engine(url)

    assert isinstance(engine, SQLiteEngine)
    assert engine.path == path
    assert not engine.path.startswith("/")
    assert (tmp_path / path).parent.is_dir()


def test_create_engine_sqlite_absolute(tmp_path: Path) -> None:
    target = tmp_path / "abc" / "x.db"

    engine = create_engine(f"sqlite:///{target}")

    assert isinstance(engine, SQLiteEngine)
    assert engine.path == str(target)
    assert target.parent.is_dir()
    assert not target.exists()


@pytest.mark.parametrize("url", ["postgresql://u:p@db.invalid:5432/scim", "postgres://u@db/scim"])
def test_create_engine_postgres(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # piccolo asks the server for its version while constructing the engine; answer for it,
    # and fail loudly if anything else tries to open a connection.
    connections: list[Any] = []

    async def version(_: PostgresEngine) -> float:
        return 16.0

    async def connect(*args: Any, **kwargs: Any) -> None:
        connections.append((args, kwargs))
        raise AssertionError("create_engine must not connect")

    monkeypatch.setattr(PostgresEngine, "get_version", version)
    monkeypatch.setattr(asyncpg, "connect", connect)

    engine = create_engine(url)

    assert isinstance(engine, PostgresEngine)
    assert engine.config == {"dsn": url}
    assert engine.pool is None
    assert connections == []


@pytest.mark.parametrize(
    "url", ["mysql://u@db/scim", "oracle://db", "./scimlab.db", "", "sqlite3:///x.db"]
)
def test_create_engine_unknown_scheme(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported database URL scheme"):
        create_engine(url)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://scim:hunter22@db:5432/scimlab", "postgresql://scim:***@db:5432/scimlab"),
        ("postgresql://db/scimlab", "postgresql://db/scimlab"),
        ("sqlite:////srv/scimlab.db", "sqlite:////srv/scimlab.db"),
    ],
)
def test_a_database_is_named_without_its_password(url: str, shown: str) -> None:
    assert describe_database(url) == shown


def test_a_relative_sqlite_file_is_named_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert describe_database("sqlite:///./x.db") == f"sqlite:///{tmp_path / 'x.db'}"
