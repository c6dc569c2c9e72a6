"""Playing the scenarios one ``scimlab simulate <idp>`` invocation selected, over one HTTP
client: a reachability check first, the platform check when a scenario rotates credentials,
then each scenario in turn, each starting from the credentials the last one left."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import httpx
from rich.progress import Progress, TaskID

from simulators.core.clock import RealClock, VirtualClock
from simulators.core.registry import make_dialect
from simulators.core.runner import ScimlabRotator, Target, run_scenario
from simulators.core.scenario import isolate
from simulators.core.transport import NoCookies, lean_transport
from simulators.plan import PlanError, check_platform, describe_error

if TYPE_CHECKING:
    from rich.console import Console

    from simulators.core.auth import Credentials
    from simulators.core.runner import RunResult
    from simulators.core.scenario import Scenario

__all__ = ["Outcome", "Plan", "play"]


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


async def _reachable(client: httpx.AsyncClient, scim_url: str) -> None:
    """Any answer will do; no answer at all is a wrong --scim-url, said before the run."""
    try:
        await client.get(f"{scim_url}/ServiceProviderConfig", timeout=30)
    except httpx.HTTPError as error:
        msg = f"cannot reach --scim-url ({scim_url}): {describe_error(error)}"
        raise PlanError(msg) from None


@dataclass
class Outcome:
    results: list[RunResult]
    #: A static token issued after a secret rotation revoked the practice's static tokens.
    replacement_token: str | None = None


async def _replace_static_tokens(
    client: httpx.AsyncClient, plan: Plan, had_tokens: bool, results: list[RunResult]
) -> str | None:
    rotated = any(r.credentials and r.credentials != plan.credentials for r in results)
    if not (rotated and had_tokens and plan.credentials.kind != "token" and plan.management_url):
        return None
    headers = {"Authorization": f"Bearer {plan.admin_key}"}
    response = await client.post(f"{plan.management_url}/tokens", headers=headers)
    return str(response.json()["token"]) if response.status_code == 201 else None


async def play(plan: Plan, console: Console) -> Outcome:
    results: list[RunResult] = []
    transport = lean_transport(_limits(plan))
    cookies = NoCookies()
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(None), transport=transport, cookies=cookies
    ) as client:
        await _reachable(client, plan.scim_url)
        rotator, had_tokens = None, False
        if plan.management_url and plan.admin_key and any(s.needs_rotator for s in plan.scenarios):
            await check_platform(client, plan.management_url, plan.admin_key)
            headers = {"Authorization": f"Bearer {plan.admin_key}"}
            listed = await client.get(f"{plan.management_url}/tokens", headers=headers)
            had_tokens = listed.status_code == 200 and bool(listed.json())
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
        replacement = await _replace_static_tokens(client, plan, had_tokens, results)
    return Outcome(results, replacement)
