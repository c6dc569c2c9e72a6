"""What every database command of ``scimlab`` shares: ``--database-url`` (named on the first
line of stderr), ``--public-url``, refusing a SQLite file that is not there, running a service
call, and printing its answer as text or JSON (dates ISO 8601 with ``Z``).

Without ``--public-url`` (or ``SCIMLAB_PUBLIC_URL``) the printed URLs start with the public URL
that the last ``scimlab serve`` on the database recorded there, so they name the port it serves on.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from uuid import UUID

import click

from server.domain.clock import iso_utc
from server.domain.errors import DomainError
from server.persistence.repositories.deployment import PUBLIC_URL
from server.persistence.store import open_store
from server.services import Services
from server.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_PUBLIC_URL,
    Settings,
    describe_database,
    sqlite_file,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

__all__ = [
    "Database",
    "actor",
    "announce",
    "database_url_option",
    "emit",
    "json_option",
    "practice_id",
    "practice_option",
    "run",
    "with_database",
]


def actor() -> str:
    try:
        return f"operator:{getpass.getuser()}"
    except (KeyError, OSError):
        return "operator"


@dataclass(frozen=True, slots=True)
class Database:
    """Where a command works: the database, and the public URL it was given (if any)."""

    url: str
    public_url: str | None = None


def announce(url: str) -> None:
    click.echo(f"database: {describe_database(url)}", err=True)


def require_existing(url: str) -> None:
    """A SQLite file that is not there is a wrong directory or URL, not a new deployment."""
    if urlsplit(url).scheme != "sqlite":
        return
    path = sqlite_file(url)
    if not path.exists():
        msg = (
            f"no database at {path.resolve()}: give --database-url (or SCIMLAB_DATABASE_URL) "
            "the database scimlab serve uses; scimlab practice create or scimlab migrate "
            "creates a new one"
        )
        raise click.ClickException(msg)


@asynccontextmanager
async def open_services(database: Database) -> AsyncIterator[Services]:
    base = Settings.from_env()
    store = await open_store(database.url, secret_keys=base.secret_keys)
    try:
        public_url = database.public_url or await store.deployment.get(PUBLIC_URL)
        settings = replace(
            base,
            database_url=database.url,
            public_url=(public_url or DEFAULT_PUBLIC_URL).rstrip("/"),
        )
        yield Services.build(store, settings)
    finally:
        await store.close()


def run(
    database: Database, action: Callable[[Services], Awaitable[Any]], *, existing: bool = True
) -> Any:
    """Run ``action`` on the database; ``existing``: refuse to create a new SQLite file."""
    announce(database.url)
    if existing:
        require_existing(database.url)

    async def go() -> Any:
        async with open_services(database) as services:
            return await action(services)

    try:
        return asyncio.run(go())
    except DomainError as error:
        raise click.ClickException(error.detail) from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    return str(value)


def emit(payload: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(payload, indent=2, default=_jsonable))
        return
    rows = payload if isinstance(payload, list) else [payload]
    for index, row in enumerate(rows):
        if index:
            click.echo("")
        for key, value in row.items():
            shown = iso_utc(value) if isinstance(value, datetime) else value
            click.echo(f"{key}: {shown}")


def practice_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a practice id") from None


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
practice_option = click.option("--practice", "practice", required=True, help="Practice id.")
database_url_option = click.option(
    "--database-url",
    envvar="SCIMLAB_DATABASE_URL",
    default=DEFAULT_DATABASE_URL,
    show_default=True,
    help="The database (environment: SCIMLAB_DATABASE_URL).",
)
public_url_option = click.option(
    "--public-url",
    envvar="SCIMLAB_PUBLIC_URL",
    help="Base URL of the printed endpoints (environment: SCIMLAB_PUBLIC_URL; default: the "
    "one scimlab serve recorded in the database).",
)


def with_database(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--database-url`` and ``--public-url``, handed to the command as ``database``."""

    @database_url_option
    @public_url_option
    def wrapper(database_url: str, public_url: str | None, **kwargs: Any) -> Any:
        return function(database=Database(database_url, public_url), **kwargs)

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper
