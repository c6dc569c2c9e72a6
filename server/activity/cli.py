"""``scimlab scim activity``: the provisioning activity log from the command line, newest
first, with the management API's filters; ``--json`` prints the API's items, ``--csv`` the
API's CSV."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from server.activity.records import OPERATIONS
from server.activity.service import MAX_EXPORT, FilterError, as_csv, as_dict, parse_query, read_page
from server.cli_common import json_option, practice_id, practice_option, run, with_database
from server.persistence.repositories.activity import activity_log_of

if TYPE_CHECKING:
    from server.activity.service import ActivityPage
    from server.cli_common import Database
    from server.services import Services

__all__ = ["activity"]


@click.command("activity")
@practice_option
@click.option("--since", help="From this time on (ISO 8601, e.g. 2026-12-07T18:00:00Z).")
@click.option("--until", help="Before this time (ISO 8601).")
@click.option("--staff", help="Only requests about this staff account (its id).")
@click.option("--outcome", type=click.Choice(["succeeded", "refused"]), help="Only these.")
@click.option("--operation", type=click.Choice(list(OPERATIONS)), help="Only this operation.")
@click.option(
    "--limit", default=100, show_default=True, type=click.IntRange(1, MAX_EXPORT), help="Newest N."
)
@click.option("--cursor", help="next_cursor of an earlier --json page.")
@click.option("--csv", "as_csv_text", is_flag=True, help="Print CSV.")
@json_option
@with_database
def activity(
    practice: str,
    as_json: bool,
    as_csv_text: bool,
    database: Database,
    **filters: Any,
) -> None:
    """The practice's SCIM requests, newest first (no bodies, tokens or secrets)."""
    pid = practice_id(practice)
    try:
        query = parse_query(**filters, most=MAX_EXPORT)
    except FilterError as error:
        raise click.BadParameter(str(error)) from None

    async def read(services: Services) -> ActivityPage:
        return await read_page(activity_log_of(services.store), pid, query)

    page: ActivityPage = run(database, read)
    if as_csv_text:
        click.echo(as_csv(page.entries), nl=False)
    elif as_json:
        body = {"items": [as_dict(e) for e in page.entries], "next_cursor": page.next_cursor}
        click.echo(json.dumps(body, indent=2))
    else:
        for entry in page.entries:
            who = f" {entry.resource_name or entry.resource_id}" if entry.resource_id else ""
            line = f"{as_dict(entry)['at']}  {entry.status}  {entry.operation_label}{who}"
            click.echo(f"{line}  [{entry.credential_label}]")
            if entry.explanation:
                click.echo(f"    {entry.explanation}")
