"""``scimlab simulate``: play identity-provider scenarios against any SCIM server.

    scimlab simulate list
    scimlab simulate entra --scim-url URL --token-url URL --client-id ID --client-secret S \\
        --scenario onboard --users 50 --report out/onboard --transcript out/onboard.txt
    scimlab simulate okta --scim-url URL --basic ID:SECRET --scenario O-05 --variant aiw
    scimlab simulate google --scim-url URL --token T --scenario my-scenario.toml

Exit status: 0 when every expectation held, 1 when one did not (or, with ``--strict``, when a
scenario asked for was skipped), 2 for usage errors and values that cannot work.

Scenarios that rotate the practice's client secret need ``--platform-url`` (the server's base
URL) and ``--admin-key`` (the practice administrator's API key); ``--scenario all`` plays them
only with ``--allow-rotation``. The new secret (or static token) is printed on stderr.

``--concurrency N`` sets how many objects of a cycle are in flight at once (each object's own
requests stay in order); the default is the IdP's (Entra 8, Okta and Google 1), and 1 makes a
run fully sequential, so its transcript replays in the same order every time.

Every run gets its own tag: people's mail domains and group names carry it, so runs never
meet the users and groups of earlier runs in the same tenant (--no-isolate turns this off and
plays the names exactly as the scenario writes them).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import click
from rich.console import Console

from simulators.core.auth import Credentials
from simulators.core.mapping import compare_keys
from simulators.core.registry import builtin_scenarios, idp, idps, make_dialect
from simulators.core.report import RunInfo, show_results, write_reports, write_transcript
from simulators.options import auth_options
from simulators.plan import (
    PlanError,
    check_url,
    options_of,
    scimlab_version,
    select,
)
from simulators.plan import (
    management_url as management_api_url,
)
from simulators.play import Plan, play
from simulators.traffic_cli import replay_command

if TYPE_CHECKING:
    from simulators.core.runner import RunResult

__all__ = ["simulate"]

FLAG = "aadOptscim062020"


@click.group("simulate")
def simulate() -> None:
    """Identity-provider simulators (Entra, Okta, Google) playing scenarios."""


@simulate.command("list")
def list_scenarios() -> None:
    """One line per built-in scenario."""
    for scenario in builtin_scenarios():
        who = ",".join(scenario.idps) if scenario.idps else "any"
        click.echo(f"{scenario.name:<16} {who:<12} {scenario.title}")


def _tell_rotated(given: Credentials, results: list[RunResult], token: str | None) -> None:
    """The server's credentials after the last rotation (stderr), so the next command works."""
    latest = next((r.credentials for r in reversed(results) if r.credentials), None)
    if latest is None or latest.secrets() == given.secrets():
        return
    if latest.kind == "token":
        lines = [f"  new static token: {latest.token}"]
    else:
        lines = [f"  client id:     {latest.client_id}", f"  client secret: {latest.client_secret}"]
        if token:
            lines.append(
                f"  static token:  {token}  (the new secret revoked the old static tokens)"
            )
    click.echo(
        "The run rotated the practice's SCIM credentials (shown once). Give the identity "
        "provider, and the next command:\n" + "\n".join(lines),
        err=True,
    )


def _idp_command(name: str) -> click.Command:
    profile = idp(name)

    @click.command(name, help=f"Simulate {profile.title}.")
    @click.option("--scim-url", required=True, help="The SCIM base URL (the tenant URL).")
    @auth_options
    @click.option(
        "--scenario",
        "scenario_names",
        multiple=True,
        required=True,
        help="A built-in scenario name, a .toml file, or 'all'. Repeatable.",
    )
    @click.option("--users", type=click.IntRange(min=0), help="Size of generated populations.")
    @click.option(
        "--variant",
        "variants",
        multiple=True,
        type=click.Choice(sorted(profile.variants)),
        help="Dialect variant. Repeatable.",
    )
    @click.option(
        "--compare",
        default="scimlab",
        show_default=True,
        help="Attributes the target keeps: scimlab, all, or a comma list.",
    )
    @click.option(
        "--platform-url",
        help="The scimlab server's base URL, for scenarios that rotate credentials "
        "(its management API regenerates the secret).",
    )
    @click.option(
        "--admin-key",
        envvar="SCIMLAB_ADMIN_KEY",
        help="The practice administrator's API key (environment: SCIMLAB_ADMIN_KEY).",
    )
    @click.option(
        "--allow-rotation",
        is_flag=True,
        help="Let --scenario all play scenarios that rotate the practice's secret.",
    )
    @click.option("--strict", is_flag=True, help="A skipped scenario fails the run.")
    @click.option(
        "--concurrency",
        type=click.IntRange(min=1),
        help=f"Objects of a cycle in flight at once (default for {name}: "
        f"{make_dialect(name).concurrency}; 1 = one after another).",
    )
    @click.option("--no-wait", is_flag=True, help="Do not really sleep for Retry-After/backoff.")
    @click.option(
        "--isolate/--no-isolate",
        "isolated",
        default=True,
        show_default=True,
        help="Tag mail domains and group names per run.",
    )
    @click.option(
        "--report", type=click.Path(path_type=Path), help="Write PATH.json, .xml and .html."
    )
    @click.option(
        "--transcript",
        type=click.Path(path_type=Path),
        help="Write every request and response (secrets redacted): JSON lines when PATH "
        "ends in .jsonl, text otherwise.",
    )
    def command(
        *,
        scim_url: str,
        token_url: str | None,
        client_id: str | None,
        client_secret: str | None,
        client_auth: str,
        token: str | None,
        basic: str | None,
        scenario_names: tuple[str, ...],
        users: int | None,
        variants: tuple[str, ...],
        compare: str,
        platform_url: str | None,
        admin_key: str | None,
        allow_rotation: bool,
        strict: bool,
        concurrency: int | None,
        no_wait: bool,
        isolated: bool,
        report: Path | None,
        transcript: Path | None,
    ) -> None:
        try:
            credentials = Credentials.from_options(
                token_url=token_url,
                client_id=client_id,
                client_secret=client_secret,
                client_auth=client_auth,
                token=token,
                basic=basic,
            )
            keys = compare_keys(compare)
        except ValueError as error:
            raise click.UsageError(str(error)) from None
        parts = urlsplit(scim_url)
        if name == "entra" and FLAG in parts.query.split("&"):  # the flag rides on the URL
            variants = (*variants, FLAG) if FLAG not in variants else variants
            scim_url = urlunsplit(parts._replace(query=""))
        if (platform_url is None) != (admin_key is None):
            raise click.UsageError("--platform-url and --admin-key go together")
        try:
            for option, url in (
                ("--scim-url", scim_url),
                ("--token-url", token_url),
                ("--platform-url", platform_url),
            ):
                check_url(option, url)
            management = management_api_url(platform_url, scim_url) if platform_url else None
            selection = select(
                name,
                scenario_names,
                variants,
                credentials,
                can_rotate=management is not None,
                allow_rotation=allow_rotation,
            )
        except PlanError as error:
            raise click.UsageError(str(error)) from None
        for note in selection.notes:
            click.echo(note, err=True)
        for skipped in selection.skipped:
            click.echo(f"skipping {skipped.name}: {skipped.reason}", err=True)
        console = Console()
        plan = Plan(
            name,
            selection.played,
            scim_url,
            credentials,
            variants,
            users,
            keys,
            management,
            admin_key,
            no_wait,
            isolated,
            concurrency,
        )
        started = datetime.now(UTC)
        try:
            outcome = asyncio.run(play(plan, console))
        except PlanError as error:
            raise click.UsageError(str(error)) from None
        results = outcome.results
        info = RunInfo(
            target=scim_url,
            idp=name,
            variants=variants,
            options=options_of(
                scenarios=list(scenario_names),
                auth=credentials.kind,
                users=users,
                compare=compare,
                concurrency=concurrency,
                no_wait=no_wait,
                isolate=isolated,
                platform_url=platform_url,
                allow_rotation=allow_rotation,
                strict=strict,
            ),
            version=scimlab_version(),
            started=started,
            finished=datetime.now(UTC),
            skipped=selection.skipped,
            strict=strict,
        )
        show_results(console, results, info)
        _tell_rotated(credentials, results, outcome.replacement_token)
        if report:
            paths = write_reports(report, results, info)
            console.print("report: " + " ".join(str(p) for p in paths))
        if transcript:
            write_transcript(transcript, results)
            console.print(f"transcript: {transcript}")
        raise SystemExit(0 if info.passed(results) else 1)

    return command


for _name in idps():
    simulate.add_command(_idp_command(_name))


simulate.add_command(replay_command)
