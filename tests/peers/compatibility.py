"""``docs/compatibility.md``: every built-in scenario and ``scimlab conform --profile rfc``
against our server and the peers, computed at run time.

    .venv/bin/python -m tests.peers.compatibility [--out docs/compatibility.md] [--users 3]

Each server is started here on 127.0.0.1 (ours on a fresh SQLite file through ``scimlab
serve``; the peers by their scripts in this folder), each scenario is played by each
simulator that plays it, and the table says pass or FAIL with the first reason the run gave.
A failure whose cause was examined gets its explanation from ``EXAMINED`` (which rule the
peer breaks, with its RFC section or IdP behaviour); an unexamined one says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fnmatch
import re
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from conformance.runner import Outcome, run_checks
from conformance.target import Target as ConformTarget
from loadtests.bench.servers import UNLIMITED, free_port, scimlab_command, serve
from loadtests.bench.targets import fresh_database
from loadtests.fleet import seed_fleet
from server.settings import Settings
from simulators.core.auth import Credentials
from simulators.core.dialect import USER_ATTRIBUTES
from simulators.core.mapping import SCIMLAB_KEPT
from simulators.core.registry import builtin_scenarios, make_dialect
from simulators.core.runner import Target, run_scenario
from simulators.core.scenario import isolate
from tests.peers.django_scim2_peer import django_scim2
from tests.peers.peer import Peer, PeerFailed
from tests.peers.scim2_server import scim2_server
from tests.peers.scimmy_peer import scimmy

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

__all__ = ["EXAMINED", "examined", "main", "render"]

EVERYTHING = frozenset(USER_ATTRIBUTES) | {"active"}

_ENTRA_STRINGS = (
    'peer follows the RFC, Entra does not: Entra sends active as the string "False" '
    "(idp-behaviors §1.4.1, §1.10 item 2); RFC 7643 §2.3.2 asks for a JSON boolean, so the "
    "400 is the peer's right, and real Entra fails there the same way (the later "
    "expectations fail because the deactivation never happened)"
)
_CREATE_ON_ABSENT = (
    "IdP behaviour the RFC leaves open: Entra adds through a filter path on a value the user "
    "does not have and expects create-on-absent (idp-behaviors §1.10 item 5); the peer "
    "answers 400 noTarget, as RFC 7644 §3.5.2.3 prescribes for a replace"
)
_ADSCIM = (
    "IdP behaviour: Entra's groups carry Microsoft's schema URN "
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group "
    "(idp-behaviors §1.6); scim2-server refuses schemas it does not know (400 invalidSyntax), "
    "which RFC 7644 §3.3 allows; the later requests on the group follow from it"
)
_CASE = (
    "peer breaks RFC 7643 §4.1.1 / RFC 7644 §3.4.2.2: userName is caseExact=false, so a "
    "filter on it must match in any case; SCIMMY's filter compares case-sensitively (the "
    "sign-in and Okta's upper-case lookups find nothing, idp-behaviors §2.7)"
)
_DJANGO_PATCH = (
    "peer breaks RFC 7644 §3.5.2: its ServiceProviderConfig announces PATCH, but "
    "django-scim2's default adapters answer 501 to operations with a path (and value "
    "filters); the later expectations follow from the update never applied"
)

#: Examined failures: (server, "scenario [idp]" pattern) -> why. Matched with fnmatch. Each
#: says whether the peer breaks a rule (which) or follows one the simulator's scenario
#: assumed it would not; E-15 was the one case of the latter and was fixed in the scenario.
EXAMINED: dict[tuple[str, str], str] = {
    ("scim2-server", "E-03 [entra]"): "IdP behaviour the RFC leaves open: Entra replaces "
    'emails[type eq "work"].value on a user who has no work e-mail; scim2-server answers '
    "400 noTarget, as RFC 7644 §3.5.2.3 says for a replace that matches nothing; the "
    "in-sync values follow from that PATCH",
    ("scim2-server", "E-05 [entra]"): _ADSCIM,
    ("scim2-server", "E-0[78] [entra]"): _CREATE_ON_ABSENT,
    ("scim2-server", "E-09 [entra]"): "peer follows the RFC, Entra does not: Entra sends "
    "manager as a bare string (idp-behaviors §1.4.1, §1.10 item 7); RFC 7643 §4.3 defines it "
    "as complex, and scim2-server refuses the string",
    ("scim2-server", "E-1[01] [entra]"): _ADSCIM,
    ("scim2-server", "group-reshuffle [entra]"): _ADSCIM,
    ("SCIMMY", "E-03 [entra]"): _CASE,
    ("SCIMMY", "O-03 [okta]"): _CASE,
    ("SCIMMY", "X-01 *"): _CASE,
    ("SCIMMY", "E-04 [entra]"): _ENTRA_STRINGS,
    ("SCIMMY", "E-05 [entra]"): _ENTRA_STRINGS,
    ("SCIMMY", "E-1[23] [entra]"): _ENTRA_STRINGS,
    ("SCIMMY", "leaver [entra]"): _ENTRA_STRINGS + "; Entra retries the escrowed PATCH",
    ("SCIMMY", "rehire [entra]"): _ENTRA_STRINGS,
    ("SCIMMY", "G-02-strings [google]"): "peer follows the RFC: this variant sends active as "
    "a string (Google, low confidence, idp-behaviors §0); RFC 7643 §2.3.2 asks for a boolean",
    ("SCIMMY", "E-0[78] [entra]"): _CREATE_ON_ABSENT,
    ("SCIMMY", "E-09 [entra]"): "peer follows the RFC, Entra does not: manager as a bare "
    "string (idp-behaviors §1.10 item 7) against RFC 7643 §4.3's complex manager",
    ("SCIMMY", "E-14 [entra]"): "peer stricter than the RFC requires: it refuses a roles "
    "type outside its canonical values (RFC 7643 §7 calls canonicalValues suggestions), and "
    'Entra sends "WindowsAzureActiveDirectoryRole" (idp-behaviors §1.3)',
    ("django-scim2", "E-0[3-9] [entra]"): _DJANGO_PATCH,
    ("django-scim2", "E-1[14] [entra]"): _DJANGO_PATCH,
    ("django-scim2", "rename *"): _DJANGO_PATCH,
    ("django-scim2", "group-reshuffle *"): _DJANGO_PATCH,
    ("django-scim2", "O-08 [okta]"): _DJANGO_PATCH + " (Okta's membership delta and rename)",
    ("django-scim2", "E-04 [entra]"): _ENTRA_STRINGS,
    ("django-scim2", "E-05 [entra]"): _ENTRA_STRINGS,
    ("django-scim2", "E-1[23] [entra]"): _ENTRA_STRINGS,
    ("django-scim2", "leaver [entra]"): _ENTRA_STRINGS + "; Entra retries the escrowed PATCH",
    ("django-scim2", "rehire [entra]"): _ENTRA_STRINGS,
    ("django-scim2", "X-01 [entra]"): _ENTRA_STRINGS + " (the disabled user stays active)",
    ("django-scim2", "G-02-strings [google]"): "peer follows the RFC: active sent as a string "
    "(RFC 7643 §2.3.2 asks for a boolean)",
    ("django-scim2", "O-07 [okta]"): "peer breaks RFC 7644 §3.12: the 409 for a duplicate "
    "userName carries a database message, not a SCIM Error body with status and scimType",
    ("django-scim2", "X-01 [okta]"): "peer breaks RFC 7644 §3.4.2.2: its filter map has no "
    "externalId, and a filter on it matches nothing instead of being answered 400 "
    "invalidFilter (Okta's OIDC sign-in looks users up by externalId, idp-behaviors §2.9)",
}


@dataclass
class Column:
    server: str
    cells: dict[str, str] = field(default_factory=dict)  # run -> "pass" / reason
    conform: dict[str, str] = field(default_factory=dict)  # failing check -> message
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None


@contextlib.asynccontextmanager
async def scimlab_peer() -> AsyncIterator[Peer]:
    """Our server on a fresh SQLite file, one practice, a static token."""
    async with fresh_database("sqlite", "") as url:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        [practice] = await seed_fleet(Settings(database_url=url, public_url=base), 1, 0)
        env = {"SCIMLAB_DATABASE_URL": url, "SCIMLAB_PUBLIC_URL": base, **UNLIMITED}
        with serve(
            "scimlab", scimlab_command(port), port=port, probe="/healthz", base_path="", env=env
        ):
            yield Peer("scimlab", practice["scim_url"], practice["static_token"])


@contextlib.asynccontextmanager
async def _sync(manager: contextlib.AbstractContextManager[Peer]) -> AsyncIterator[Peer]:
    with manager as peer:
        yield peer


def _servers(folder: Path) -> dict[str, Callable[[], contextlib.AbstractAsyncContextManager[Peer]]]:
    return {
        "scimlab": scimlab_peer,
        "scim2-server": lambda: _sync(scim2_server(folder / "scim2-server.log")),
        "SCIMMY": lambda: _sync(scimmy(folder / "scimmy.log")),
        "django-scim2": lambda: _sync(django_scim2(folder / "django-scim2.log")),
    }


def _reason(result: object) -> str:
    error = getattr(result, "error", None)
    if error:
        return str(error)
    failed = [r for r in getattr(result, "results", []) if r.status == "failed"]
    return "; ".join(f"{r.id.split('.', 1)[-1]}: {r.detail}" for r in failed[:2])


async def _scenarios(peer: Peer, column: Column, users: int) -> None:
    compare = SCIMLAB_KEPT if peer.name == "scimlab" else peer.keeps or EVERYTHING
    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0)) as client:
        for scenario in builtin_scenarios():
            for idp in scenario.idps or ("entra", "okta", "google"):
                run = f"{scenario.name} [{idp}]"
                if scenario.needs_rotator:
                    column.cells[run] = "n/a: rotates credentials through scimlab's API"
                    continue
                tag = secrets.token_hex(3)
                target = Target(
                    peer.tenant(), client, Credentials("token", token=peer.token), compare
                )
                try:
                    result = await run_scenario(
                        isolate(scenario, tag),
                        make_dialect(idp, scenario.variants),
                        target,
                        users=users if scenario.name == "onboard" else None,
                        domain=f"{tag}.example.org",
                    )
                except Exception as failure:  # a peer that breaks the simulator is a finding
                    column.cells[run] = f"simulator error: {type(failure).__name__}: {failure}"
                    continue
                column.cells[run] = "pass" if result.passed else _reason(result)


async def _conform(peer: Peer, column: Column) -> None:
    target = ConformTarget(scim_url=peer.tenant(), token=peer.token)
    async with httpx.AsyncClient(timeout=30.0, follow_redirects=False) as client:
        report = await run_checks(target, client, profile="rfc")
    for outcome in Outcome:
        column.counts[outcome.value] = sum(r.outcome is outcome for r in report.results)
    for r in report.results:
        if r.outcome is Outcome.FAIL:
            # the check's rule is the rule the peer breaks
            column.conform[f"{r.check.id} {r.check.title}"] = f"{r.message} ({r.check.rule})"


def _split(run: str) -> tuple[str, str]:
    """``"E-03 [entra]"`` -> (``E-03``, ``entra``); ``"X-01 *"`` -> (``X-01``, ``*``)."""
    name, _, idp = run.rpartition(" ")
    return name, idp.strip("[]")


def examined(server: str, run: str) -> str | None:
    """Why a failed run fails, when it was examined; scenario and simulator are matched
    apart (``fnmatch`` would read the brackets around the simulator as a character set)."""
    name, idp = _split(run)
    for (who, pattern), why in EXAMINED.items():
        want_name, want_idp = _split(pattern)
        if (
            who == server
            and fnmatch.fnmatchcase(name, want_name)
            and fnmatch.fnmatchcase(idp, want_idp)
        ):
            return why
    return None


_BASE = re.compile(
    r"https?://127\.0\.0\.1:\d+(/[0-9a-f]{32})?(/scim/v2/[0-9a-f-]{36}|/scim/v2|/scim)?"
)


def _cell(text: str, limit: int = 260) -> str:
    text = _BASE.sub("", " ".join(text.split())).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(columns: list[Column], users: int, seconds: float) -> str:
    runs = list(dict.fromkeys(run for c in columns for run in c.cells))
    lines = [
        "# Compatibility: the simulators and `conform --profile rfc` on servers we did not write",
        "",
        "Generated by `.venv/bin/python -m tests.peers.compatibility` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {seconds:.0f} s (onboard with {users} "
        "users); do not edit by hand. Every server runs on 127.0.0.1, started by its script in "
        "`tests/peers/`: ours (`scimlab serve`, SQLite), scim2-server (PyPI), SCIMMY with "
        "scimmy-routers (npm) over an in-memory store written for the test, django-scim2 "
        "(PyPI) on a throwaway Django project. Runs are isolated by tagged mail domains and "
        "group names; attributes are compared where the server keeps them (ours: scimlab's "
        "profile; peers: all).",
        "",
        "## Scenarios",
        "",
        "| scenario [simulator] | " + " | ".join(c.server for c in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for run in runs:
        cells = []
        for c in columns:
            value = c.cells.get(run, c.error or "not run")
            cells.append(
                "pass" if value == "pass" else "n/a" if value.startswith("n/a") else "**FAIL**"
            )
        lines.append(f"| {run} | " + " | ".join(cells) + " |")
    lines += ["", "| server | passed | failed | n/a |", "|---|---|---|---|"]
    for c in columns:
        values = list(c.cells.values())
        passed = sum(v == "pass" for v in values)
        na = sum(v.startswith("n/a") for v in values)
        lines.append(f"| {c.server} | {passed} | {len(values) - passed - na} | {na} |")
    lines += ["", "## Why each failure fails", ""]
    for c in columns:
        failures = {r: v for r, v in c.cells.items() if v != "pass" and not v.startswith("n/a")}
        lines += [f"### {c.server}", ""]
        if c.error:
            lines += [f"Not run: {c.error}", ""]
            continue
        if not failures:
            lines += ["Every scenario passed.", ""]
            continue
        lines += ["| run | what the run reported | examined |", "|---|---|---|"]
        for run, reason in failures.items():
            why = examined(c.server, run) or "not yet examined"
            lines.append(f"| {run} | {_cell(reason)} | {_cell(why, 400)} |")
        lines.append("")
    lines += [
        "## `scimlab conform --profile rfc`",
        "",
        "| server | pass | fail | n/a | failing checks |",
        "|---|---|---|---|---|",
    ]
    for c in columns:
        failing = "; ".join(c.conform) if c.conform else ""
        lines.append(
            f"| {c.server} | {c.counts.get('pass', 0)} | {c.counts.get('fail', 0)} | "
            f"{c.counts.get('n/a', 0)} | {_cell(failing, 1500)} |"
        )
    lines += ["", "### Failing checks: the server's answer, and the rule it breaks", ""]
    for c in columns:
        for name, message in c.conform.items():
            lines.append(f"- {c.server}, {name}: {_cell(message, 300)}")
    return "\n".join(lines) + "\n"


async def collect(users: int, only: list[str] | None = None) -> list[Column]:
    columns: list[Column] = []
    with tempfile.TemporaryDirectory(prefix="scimlab-peers-") as folder:
        for name, start in _servers(Path(folder)).items():
            if only and name not in only:
                continue
            column = Column(name)
            columns.append(column)
            try:
                async with start() as peer:
                    await _scenarios(peer, column, users)
                    await _conform(peer, column)
            except PeerFailed as failure:
                column.error = str(failure).splitlines()[0]
            passed = sum(v == "pass" for v in column.cells.values())
            print(f"{name}: {passed}/{len(column.cells)} runs passed", file=sys.stderr)
    return columns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("docs/compatibility.md"))
    parser.add_argument("--users", type=int, default=3)
    parser.add_argument("--only", action="append", help="Only this server (repeatable).")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    columns = asyncio.run(collect(args.users, args.only))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        render(columns, args.users, time.perf_counter() - started), encoding="utf-8"
    )
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
