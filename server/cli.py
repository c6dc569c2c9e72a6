"""The ``scimlab`` command line: serve, migrate, practices, the SCIM configuration lifecycle,
the audit log, and the test bench (simulate, conform, bench).

Every command that opens the database takes ``--database-url`` and names the database on the
first line of stderr (:mod:`server.cli_common`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
import os
import sys
from typing import Any

import click

from server.activity.cli import activity as scim_activity
from server.cli_common import announce, database_url_option, json_option, require_existing
from server.cli_practices import audit, practice, scim
from server.persistence.rekey import RekeyReport, rekey
from server.persistence.repositories.deployment import PUBLIC_URL
from server.persistence.store import open_store
from server.settings import Settings, SettingsError, describe_database

__all__ = ["main"]


class _Commands(click.Group):
    """Settings that cannot be used end a command with their message, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SettingsError as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """scimlab: SCIM 2.0 provisioning service and test bench."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to bind.")
@click.option("--workers", default=1, show_default=True, type=int, help="Worker processes.")
@database_url_option
@click.option(
    "--public-url",
    envvar="SCIMLAB_PUBLIC_URL",
    help="Base URL handed out in credentials, Location headers and SSO redirects "
    "(environment: SCIMLAB_PUBLIC_URL; default: the address bound, http://HOST:PORT).",
)
@click.option(
    "--drain",
    type=click.FloatRange(min=0),
    envvar="SCIMLAB_SHUTDOWN_DRAIN_SECONDS",
    help="Seconds /readyz answers 503 after SIGTERM before the listener closes "
    "(environment: SCIMLAB_SHUTDOWN_DRAIN_SECONDS; default 5 in production, else 0).",
)
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    envvar="SCIMLAB_SHUTDOWN_GRACE_SECONDS",
    help="Seconds requests in flight get to finish once the listener has closed "
    "(environment: SCIMLAB_SHUTDOWN_GRACE_SECONDS; default 30).",
)
def serve(  # noqa: PLR0917 - one parameter per option
    host: str,
    port: int,
    workers: int,
    database_url: str,
    public_url: str | None,
    drain: float | None,
    grace: float | None,
) -> None:
    """Apply migrations, then serve the app on granian.

    Refuses to start when the port is taken. Records its public URL in the database, so the
    other commands print URLs with the port it serves on. On SIGTERM it drains: /readyz
    answers 503 for --drain seconds, then the listener closes and requests in flight get
    --grace seconds.
    """
    from granian import Granian  # noqa: PLC0415 - only this command needs the server
    from granian.constants import Interfaces, Loops  # noqa: PLC0415

    from server.ops.serving import (  # noqa: PLC0415
        PortInUse,
        bound_url,
        drain_on_sigterm,
        granian_options,
        refuse_busy_port,
    )

    _notice(f"database: {describe_database(database_url)}")
    try:
        refuse_busy_port(host, port)
    except PortInUse as error:
        raise click.ClickException(error.strerror or str(error)) from None
    bound = bound_url(host, port)
    url = (public_url or bound).rstrip("/")
    if url != bound:
        _notice(f"public URL: {url} (serving on {bound}; credentials and links name {url})")
    else:
        _notice(f"public URL: {url}")
    # granian's workers build their settings from the environment.
    os.environ["SCIMLAB_DATABASE_URL"] = database_url
    os.environ["SCIMLAB_PUBLIC_URL"] = url
    for variable, value in (
        ("SCIMLAB_SHUTDOWN_DRAIN_SECONDS", drain),
        ("SCIMLAB_SHUTDOWN_GRACE_SECONDS", grace),
    ):
        if value is not None:
            os.environ[variable] = str(value)
    settings = Settings.from_env()
    settings.refuse_unsafe()
    asyncio.run(_migrate(database_url, public_url=url))
    start_draining, stop_draining = drain_on_sigterm(settings.shutdown_drain_seconds, _notice)
    server = Granian(
        "server.app:serve_app",
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        # uvloop: less server CPU per request than asyncio's own loop (BENCHMARKS.md).
        loop=Loops.uvloop,
        factory=True,
        log_access=False,
        # granian counts whole seconds; 0 would mean "wait for ever".
        workers_kill_timeout=max(1, math.ceil(settings.shutdown_grace_seconds)),
        **granian_options(workers),
    )
    server.on_startup(start_draining)
    server.on_shutdown(stop_draining)
    server.serve()


def _notice(message: str) -> None:
    """A line of serve's own on stderr, JSON like every line the server logs."""
    from server.ops.logs import JsonFormatter  # noqa: PLC0415 - only serve needs the formatter

    record = logging.makeLogRecord(
        {"name": "scimlab.serve", "levelno": logging.INFO, "levelname": "INFO", "msg": message}
    )
    click.echo(JsonFormatter().format(record), err=True)


async def _migrate(database_url: str, *, public_url: str | None = None) -> None:
    settings = Settings.from_env()
    store = await open_store(database_url, migrate=True, secret_keys=settings.secret_keys)
    try:
        if public_url is not None:
            await store.deployment.put(PUBLIC_URL, public_url)
    finally:
        await store.close()


@main.command()
@database_url_option
def migrate(database_url: str) -> None:
    """Apply pending database migrations."""
    announce(database_url)
    asyncio.run(_migrate(database_url))
    click.echo(f"migrations applied ({database_url.rsplit('@', maxsplit=1)[-1]})")


@main.command("check-user-names")
@database_url_option
@click.option("--fix", is_flag=True, help="Recompute the keys of rows in no collision.")
@json_option
def check_user_names(database_url: str, fix: bool, as_json: bool) -> None:
    """List accounts whose userName or email, and groups whose displayName, are one value
    once normalised (server.domain.text.text_key); exit status 1 if any are."""
    announce(database_url)
    require_existing(database_url)

    async def go() -> RekeyReport:
        store = await open_store(database_url)
        try:
            return await rekey(store.engine, apply=fix)
        finally:
            await store.close()

    report = asyncio.run(go())
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(report), indent=2, default=str))
    else:
        for c in report.collisions:
            rows = ", ".join(f"{row_id} {value!r}" for row_id, value in c.rows)
            click.echo(f"practice {c.practice_id} {c.table}.{c.column} {c.key!r}: {rows}")
        verb = "recomputed" if fix else "to recompute (--fix)"
        click.echo(f"{len(report.collisions)} collisions; {report.changed} rows {verb}")
    if report.collisions:
        sys.exit(1)


main.add_command(practice)
main.add_command(scim)
scim.add_command(scim_activity)
main.add_command(audit)


from server.secret_key import secret_key  # noqa: E402 - registered after the core commands

main.add_command(secret_key)


from conformance.cli import conform  # noqa: E402 - registered after the core commands

main.add_command(conform)


from simulators.cli import simulate  # noqa: E402 - registered after the core commands

main.add_command(simulate)


from simulators.traffic_cli import record  # noqa: E402 - registered after the core commands

main.add_command(record)


from loadtests.cli import bench  # noqa: E402 - registered after the core commands

main.add_command(bench)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
