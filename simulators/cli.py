"""``scimlab simulate``: play identity-provider scenarios against any SCIM server.

    scimlab simulate list
    scimlab simulate entra --scim-url URL --token-url URL --client-id ID --client-secret S \\
        --scenario onboard --users 50 --report out/onboard --transcript out/onboard.txt
    scimlab simulate okta --scim-url URL --basic ID:SECRET --scenario O-05 --variant aiw
    scimlab simulate google --scim-url URL --token T --scenario my-scenario.toml

Exit status: 0 when every expectation held, 1 when one did not, 2 for usage errors.

``--concurrency N`` sets how many objects of a cycle are in flight at once (each object's own
requests stay in order); the default is the IdP's (Entra 8, Okta and Google 1), and 1 makes a
run fully sequential, so its transcript replays in the same order every time.

Every run gets its own tag: people's mail domains and group names carry it, so runs never
meet the users and groups of earlier runs in the same tenant (--no-isolate turns this off and
plays the names exactly as the scenario writes them).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import click
import httpx
from rich.console import Console
from rich.progress import Progress, TaskID

from simulators.core.auth import Credentials
from simulators.core.clock import RealClock, VirtualClock
from simulators.core.mapping import compare_keys
from simulators.core.registry import builtin_scenarios, find_scenario, idp, idps, make_dialect
from simulators.core.report import show_results, write_reports, write_transcript
from simulators.core.runner import ScimlabRotator, Target, run_scenario
from simulators.core.scenario import isolate
from simulators.core.transport import lean_transport

if TYPE_CHECKING:
    from simulators.core.runner import RunResult
    from simulators.core.scenario import Scenario

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


def _unmet(scenario: Scenario, credentials: Credentials, can_rotate: bool) -> str | None:
    if scenario.auth and credentials.kind not in scenario.auth:
        return f"{scenario.name} needs {' or '.join(scenario.auth)} auth"
    if scenario.needs_rotator and not can_rotate:
        return f"{scenario.name} uses the management API: give --management-url and --admin-key"
    return None


def _scenarios(
    name: str, names: tuple[str, ...], credentials: Credentials, can_rotate: bool
) -> list[Scenario]:
    """The scenarios asked for; ``all`` leaves out those this invocation cannot play."""
    chosen: list[Scenario] = []
    for wanted in names:
        if wanted == "all":
            for s in builtin_scenarios():
                if s.supports(name) and (why := _unmet(s, credentials, can_rotate)) is None:
                    chosen.append(s)
                elif s.supports(name):
                    click.echo(f"skipping {why}", err=True)
            continue
        try:
            scenario = find_scenario(wanted)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--scenario") from None
        if not scenario.supports(name):
            raise click.BadParameter(f"{scenario.name} is for {', '.join(scenario.idps)}")
        if (why := _unmet(scenario, credentials, can_rotate)) is not None:
            raise click.UsageError(why)
        chosen.append(scenario)
    return chosen


@dataclass(frozen=True)
class Plan:
    """Everything one ``simulate <idp>`` invocation will do."""

    idp: str
    scenarios: list[Scenario]
    scim_url: str
    credentials: Credentials
    variants: tuple[str, ...]
    users: int | None
    compare: frozenset[str]
    management_url: str | None
    admin_key: str | None
    no_wait: bool
    isolated: bool
    concurrency: int | None = None  # None: the dialect's own


def _limits(plan: Plan) -> httpx.Limits:
    """One kept-alive connection per object in flight (and the verifier's reads), so a cycle
    never pays a new TCP connection per request."""
    widest = max(
        (make_dialect(plan.idp, (*plan.variants, *s.variants)).concurrency for s in plan.scenarios),
        default=1,
    )
    width = plan.concurrency or widest
    return httpx.Limits(max_connections=2 * width + 4, max_keepalive_connections=2 * width + 4)


async def _main(plan: Plan, console: Console) -> list[RunResult]:
    results = []
    transport = lean_transport(_limits(plan))
    async with httpx.AsyncClient(timeout=httpx.Timeout(None), transport=transport) as client:
        rotator = None
        if plan.management_url and plan.admin_key:
            headers = {"Authorization": f"Bearer {plan.admin_key}"}
            rotator = ScimlabRotator(client, plan.management_url, headers)
        target = Target(plan.scim_url, client, plan.credentials, plan.compare, rotator)
        with Progress(console=console, transient=True) as progress:
            for scenario in plan.scenarios:
                task = progress.add_task(f"{scenario.name} [{plan.idp}]", total=None)

                def advance(done: int, total: int, task: TaskID = task) -> None:
                    progress.update(task, completed=done, total=total)

                tag = secrets.token_hex(3)
                played, domain = scenario, "example.org"
                if plan.isolated:
                    played, domain = isolate(scenario, tag), f"{tag}.example.org"
                dialect = make_dialect(plan.idp, (*plan.variants, *scenario.variants))
                if plan.concurrency is not None:
                    dialect = dialect.with_changes(concurrency=plan.concurrency)
                result = await run_scenario(
                    played,
                    dialect,
                    target,
                    users=plan.users,
                    clock=VirtualClock() if plan.no_wait else RealClock(),
                    progress=advance,
                    domain=domain,
                )
                progress.remove_task(task)
                results.append(result)
                if result.credentials is not None:  # a rotation step left new credentials
                    target = replace(target, credentials=result.credentials)
    return results


def _idp_command(name: str) -> click.Command:
    profile = idp(name)

    @click.command(name, help=f"Simulate {profile.title}.")
    @click.option("--scim-url", required=True, help="The SCIM base URL (the tenant URL).")
    @click.option("--token-url", help="OAuth token endpoint (client credentials).")
    @click.option("--client-id", help="OAuth client id.")
    @click.option("--client-secret", help="OAuth client secret.")
    @click.option(
        "--client-auth",
        type=click.Choice(["post", "basic"]),
        default="post",
        show_default=True,
        help="How the client secret goes to the token endpoint.",
    )
    @click.option("--token", help="A static bearer token.")
    @click.option("--basic", help="HTTP Basic credentials, ID:SECRET.")
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
    @click.option("--management-url", help="scimlab management API base (for rotation steps).")
    @click.option("--admin-key", help="scimlab admin API key (for rotation steps).")
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
    @click.option("--report", type=click.Path(path_type=Path), help="Write PATH.json + PATH.xml.")
    @click.option(
        "--transcript",
        type=click.Path(path_type=Path),
        help="Write every request and response (secrets redacted).",
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
        management_url: str | None,
        admin_key: str | None,
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
        can_rotate = bool(management_url and admin_key)
        scenarios = _scenarios(name, scenario_names, credentials, can_rotate)
        console = Console()
        plan = Plan(
            name,
            scenarios,
            scim_url,
            credentials,
            variants,
            users,
            keys,
            management_url,
            admin_key,
            no_wait,
            isolated,
            concurrency,
        )
        results = asyncio.run(_main(plan, console))
        show_results(console, results)
        if report:
            json_path, xml_path = write_reports(report, results)
            console.print(f"report: {json_path} {xml_path}")
        if transcript:
            write_transcript(transcript, results)
            console.print(f"transcript: {transcript}")
        raise SystemExit(0 if all(r.passed for r in results) else 1)

    return command


for _name in idps():
    simulate.add_command(_idp_command(_name))
