"""``scimlab conform``: run the conformance suites against a SCIM endpoint over HTTP.

Exit status: 0 when no check failed, 1 when one did, 2 for a usage error. Secrets may come
from the environment (``SCIMLAB_CONFORM_CLIENT_SECRET``, ``SCIMLAB_CONFORM_TOKEN``,
``SCIMLAB_ADMIN_KEY``, ``SCIMLAB_CONFORM_PEER_TOKEN``) rather than the command line.

``--platform-url`` and ``--admin-key`` mean what they mean to ``scimlab simulate``: the
server's base URL and the practice administrator's API key (``--platform-admin`` and
``SCIMLAB_CONFORM_PLATFORM_ADMIN``, their former names, still work).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click
import httpx

from conformance.registry import AREAS, PROFILES, parse_areas
from conformance.report import console_summary, write_reports
from conformance.runner import CheckResult, Outcome, RunReport, run_checks
from conformance.target import Peer, Target, TargetError

__all__ = ["conform"]

_AREA_HELP = ", ".join(f"{a.code}={a.marker}" for a in AREAS)


async def _run(
    target: Target, areas: list[str], seconds: float, echo: bool, profile: str
) -> RunReport:
    marks = {Outcome.PASS: ".", Outcome.FAIL: "F", Outcome.NOT_APPLICABLE: "-"}

    def progress(result: CheckResult) -> None:
        if echo:
            click.echo(marks[result.outcome], nl=False, err=True)

    async with httpx.AsyncClient(timeout=seconds, follow_redirects=False) as client:
        report = await run_checks(
            target, client, areas=parse_areas(areas) or None, progress=progress, profile=profile
        )
    if echo:
        click.echo("", err=True)
    return report


@click.command("conform")
@click.option("--scim-url", required=True, help="SCIM base URL (…/scim/v2/<practice id>).")
@click.option("--token-url", help="OAuth 2.0 token endpoint (client credentials).")
@click.option("--client-id", help="OAuth client id.")
@click.option(
    "--client-secret", envvar="SCIMLAB_CONFORM_CLIENT_SECRET", help="OAuth client secret."
)
@click.option("--token", envvar="SCIMLAB_CONFORM_TOKEN", help="A bearer token instead of OAuth.")
@click.option(
    "--platform-url",
    help="The scimlab server's base URL (enables the lifecycle and sign-in checks).",
)
@click.option(
    "--admin-key",
    "platform_admin",
    envvar=["SCIMLAB_ADMIN_KEY", "SCIMLAB_CONFORM_PLATFORM_ADMIN"],
    help="The practice administrator's API key (environment: SCIMLAB_ADMIN_KEY).",
)
@click.option("--platform-admin", "legacy_admin", hidden=True)
@click.option(
    "--profile",
    type=click.Choice(PROFILES),
    default="platform",
    show_default=True,
    help="rfc: only what the RFCs require; platform: also the platform's rules.",
)
@click.option("--peer-scim-url", help="A second tenant's SCIM URL (enables cross-tenant checks).")
@click.option(
    "--peer-token", envvar="SCIMLAB_CONFORM_PEER_TOKEN", help="A bearer token of that tenant."
)
@click.option("--only", "only", multiple=True, help=f"Run only these areas ({_AREA_HELP}).")
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("conformance-reports"),
    show_default=True,
    help="Where the JSON, JUnit XML and HTML reports go.",
)
@click.option("--timeout", default=30.0, show_default=True, help="Per-request timeout, seconds.")
@click.option(
    "--expiry-wait", default=5.0, show_default=True, help="Longest token life TA-009 waits out."
)
@click.option("--verbose", "-v", is_flag=True, help="List every check, not only failures.")
def conform(  # noqa: PLR0917 - click passes each option as an argument
    scim_url: str,
    token_url: str | None,
    client_id: str | None,
    client_secret: str | None,
    token: str | None,
    platform_url: str | None,
    platform_admin: str | None,
    legacy_admin: str | None,
    profile: str,
    peer_scim_url: str | None,
    peer_token: str | None,
    only: tuple[str, ...],
    report_dir: Path,
    timeout: float,
    expiry_wait: float,
    verbose: bool,
) -> None:
    """Check a SCIM endpoint against RFC 7643/7644, RFC 6749/6750 and the platform's rules.

    --profile rfc runs only the checks the RFCs require (for a third-party server).
    With --platform-url/--admin-key the token-auth lifecycle checks regenerate the
    client secret, disable and delete the SCIM configuration, then enable it again: the
    identity provider must be given the new credentials printed at the end. The sign-in
    checks (DA-008, DA-009, SL-*) configure the practice's SSO with a simulated Okta on
    127.0.0.1 for their duration (not when the practice has SSO already), so the platform
    must run on this machine.
    """
    platform_admin = platform_admin or legacy_admin
    if (peer_scim_url is None) != (peer_token is None):
        raise click.UsageError("--peer-scim-url and --peer-token go together")
    try:
        parse_areas(only)
        target = Target(
            scim_url=scim_url,
            token_url=token_url,
            client_id=client_id,
            client_secret=client_secret,
            token=token,
            platform_url=platform_url,
            platform_admin=platform_admin,
            peer=Peer(peer_scim_url, peer_token) if peer_scim_url and peer_token else None,
            expiry_wait_limit=expiry_wait,
        )
    except (TargetError, ValueError) as error:
        raise click.UsageError(str(error)) from None
    report = asyncio.run(
        _run(target, list(only), timeout, echo=sys.stderr.isatty(), profile=profile)
    )
    click.echo(console_summary(report, verbose=verbose))
    paths = write_reports(report, report_dir)
    click.echo("\n  reports: " + "  ".join(str(p) for p in paths.values()))
    if report.rotated_credentials is not None:
        new_id, new_secret = report.rotated_credentials
        click.echo(
            "\n  The lifecycle checks rotated the SCIM credentials. Give the identity provider:"
            f"\n    client id:     {new_id}\n    client secret: {new_secret}  (shown once)",
            err=True,
        )
    sys.exit(0 if report.ok else 1)
