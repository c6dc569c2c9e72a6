"""``scimlab record`` (a recording reverse proxy) and ``scimlab simulate replay`` (a trace
sent again to any SCIM server, answers compared): thin commands over ``simulators.core``
(``proxy``, ``trace``, ``replay``, ``replay_report``, ``to_scenario``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import click
import httpx
from rich.console import Console

from simulators.core.auth import Credentials
from simulators.core.clock import RealClock
from simulators.core.proxy import record as record_traffic
from simulators.core.replay import DEFAULT_TOLERATE, replay
from simulators.core.replay_report import show_replay, write_replay_reports
from simulators.core.to_scenario import trace_to_scenario
from simulators.core.trace import TraceError, load_trace
from simulators.core.transport import lean_transport
from simulators.options import auth_options

if TYPE_CHECKING:
    from simulators.core.replay import ReplayResult

__all__ = ["record", "replay_command"]


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise click.BadParameter(f"{value!r} is not HOST:PORT", param_hint="--listen")
    return host.strip("[]") or "127.0.0.1", int(port)


@click.command("record")
@click.option("--listen", required=True, help="HOST:PORT the identity provider is pointed at.")
@click.option("--upstream", required=True, help="The SCIM base URL requests are forwarded to.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The trace file (default: trace-<UTC time>.jsonl).",
)
@click.option(
    "--pseudonymise",
    is_flag=True,
    help="Replace personal data with fakes, the same fake for the same value.",
)
@click.option(
    "--seconds", type=click.FloatRange(min=0, min_open=True), help="Stop after this long."
)
def record(
    listen: str, upstream: str, out: Path | None, pseudonymise: bool, seconds: float | None
) -> None:
    """Record what an identity provider sends: a reverse proxy writing a trace (secrets
    redacted) for ``scimlab simulate replay``. Stop it with Ctrl-C."""
    host, port = _host_port(listen)
    if urlsplit(upstream).scheme not in ("http", "https"):
        raise click.BadParameter("must be an http(s) URL", param_hint="--upstream")
    if out is None:
        out = Path(f"trace-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.jsonl")
    run = record_traffic(
        host, port, upstream, out, pseudonymise=pseudonymise, seconds=seconds, announce=click.echo
    )
    try:
        written = asyncio.run(run)
    except KeyboardInterrupt:
        written = None
    except OSError as error:
        raise click.ClickException(f"cannot listen on {listen}: {error.strerror}") from None
    click.echo(f"trace: {out}" + (f" ({written} exchanges)" if written is not None else ""))


@click.command("replay")
@click.argument("trace_path", metavar="TRACE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--scim-url", help="The SCIM base URL to replay against.")
@auth_options
@click.option(
    "--pace",
    type=click.Choice(["fast", "recorded"]),
    default="fast",
    show_default=True,
    help="fast: each request as soon as the last answered; recorded: at the recorded times.",
)
@click.option(
    "--tolerate",
    default=",".join(sorted(DEFAULT_TOLERATE)),
    show_default=True,
    help="Server-assigned fields not compared (attribute names or dotted paths; 'etag' for "
    "ETag headers; 'none' compares everything).",
)
@click.option("--report", type=click.Path(path_type=Path), help="Write PATH.json/.xml/.html.")
@click.option(
    "--to-scenario",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the trace as an editable scenario file (.toml) instead of replaying it.",
)
def replay_command(
    *,
    trace_path: Path,
    scim_url: str | None,
    token_url: str | None,
    client_id: str | None,
    client_secret: str | None,
    client_auth: str,
    token: str | None,
    basic: str | None,
    pace: Literal["fast", "recorded"],
    tolerate: str,
    report: Path | None,
    to_scenario: Path | None,
) -> None:
    """Replay a recorded trace (``scimlab record``) against a SCIM server, rewriting ids the
    server assigns, and compare every answer with the recorded one."""
    try:
        trace = load_trace(trace_path)
    except TraceError as error:
        raise click.ClickException(str(error)) from None
    if to_scenario is not None:
        to_scenario.parent.mkdir(parents=True, exist_ok=True)
        text = trace_to_scenario(trace, to_scenario.stem)
        to_scenario.write_text(text, encoding="utf-8")
        click.echo(f"scenario: {to_scenario} ({len(trace.scim)} requests)")
        return
    if not scim_url:
        raise click.UsageError("give --scim-url (or --to-scenario FILE)")
    try:
        credentials = Credentials.from_options(
            token_url=token_url,
            client_id=client_id,
            client_secret=client_secret,
            client_auth=client_auth,
            token=token,
            basic=basic,
        )
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    skip = (
        frozenset()
        if tolerate.strip() == "none"
        else frozenset(t.strip().lower() for t in tolerate.split(",") if t.strip())
    )

    async def go() -> ReplayResult:
        transport = lean_transport(httpx.Limits(max_connections=4))
        async with httpx.AsyncClient(timeout=httpx.Timeout(60.0), transport=transport) as client:
            return await replay(
                trace,
                client,
                scim_url,
                credentials,
                RealClock(),
                pace=pace,
                tolerate=skip,
                name=trace_path.name,
            )

    result = asyncio.run(go())
    console = Console()
    show_replay(console, result)
    if report:
        paths = write_replay_reports(report, result)
        console.print("report: " + " ".join(str(p) for p in paths))
    raise SystemExit(0 if result.passed else 1)
