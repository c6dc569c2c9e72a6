"""``scimlab practice``, ``scimlab scim`` and ``scimlab audit``: the same services as the
management API, writing the same audit entries (as ``operator:<login>``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import click

from server.cli_common import (
    Database,
    actor,
    emit,
    json_option,
    practice_id,
    practice_option,
    run,
    with_database,
)
from server.security import mask_secret

__all__ = ["audit", "practice", "scim"]


@click.group()
def practice() -> None:
    """Practices (companies)."""


@practice.command("create")
@click.argument("name")
@json_option
@with_database
def practice_create(name: str, as_json: bool, database: Database) -> None:
    """Create a practice and its first practice administrator."""
    created = run(
        database, lambda s: s.practices.create_practice(name, actor=actor()), existing=False
    )
    emit(
        {
            "practice_id": str(created.practice.id),
            "name": created.practice.name,
            "admin": {
                "user_id": str(created.admin_user_id),
                "username": created.admin_username,
                "password": created.admin_password,
                "api_key": created.admin_api_key,
            },
        },
        as_json,
    )


def _scim_state(config: Any) -> str:
    if config is None:
        return "not configured"
    return "enabled" if config.enabled else "disabled"


@practice.command("list")
@json_option
@with_database
def practice_list(as_json: bool, database: Database) -> None:
    """Every practice in the database, oldest first, with its SCIM state."""
    listed = run(database, lambda s: s.practices.list_practices())
    emit(
        [
            {
                "practice_id": str(p.id),
                "name": p.name,
                "created_at": p.created_at,
                "scim": _scim_state(config),
            }
            for p, config in listed
        ],
        as_json,
    )


@click.group()
def scim() -> None:
    """A practice's SCIM configuration."""


def _credentials(result: Any) -> dict[str, Any]:
    return {
        "scim_endpoint_url": result.scim_endpoint_url,
        "token_endpoint_url": result.token_endpoint_url,
        "client_id": result.client_id,
        "client_secret": result.client_secret,
        "secret_shown": result.secret_shown,
        "enabled": result.enabled,
    }


@scim.command("enable")
@practice_option
@json_option
@with_database
def scim_enable(practice: str, as_json: bool, database: Database) -> None:
    """Enable SCIM (new credentials, secret shown once) or resume a paused configuration."""
    pid = practice_id(practice)
    emit(_credentials(run(database, lambda s: s.practices.enable(pid, actor=actor()))), as_json)


@scim.command("show")
@practice_option
@json_option
@with_database
def scim_show(practice: str, as_json: bool, database: Database) -> None:
    """Show the configuration with the secret masked."""
    pid = practice_id(practice)
    emit(_credentials(run(database, lambda s: s.practices.show(pid))), as_json)


@scim.command("disable")
@practice_option
@click.option("--confirm", default="", help="Type DISABLE to confirm.")
@json_option
@with_database
def scim_disable(practice: str, confirm: str, as_json: bool, database: Database) -> None:
    """Pause provisioning: tokens are revoked and SCIM requests refused."""
    pid = practice_id(practice)
    result = run(database, lambda s: s.practices.disable(pid, confirm=confirm, actor=actor()))
    emit(_credentials(result), as_json)


@scim.command("regenerate-secret")
@practice_option
@json_option
@with_database
def scim_regenerate(practice: str, as_json: bool, database: Database) -> None:
    """Issue a new client secret; the old one and its tokens stop working."""
    pid = practice_id(practice)
    result = run(database, lambda s: s.practices.regenerate_secret(pid, actor=actor()))
    emit(_credentials(result), as_json)


@scim.command("delete")
@practice_option
@click.option("--confirm", default="", help="Type DELETE to confirm.")
@json_option
@with_database
def scim_delete(practice: str, confirm: str, as_json: bool, database: Database) -> None:
    """Delete the configuration permanently (users stay)."""
    pid = practice_id(practice)
    run(database, lambda s: s.practices.delete(pid, confirm=confirm, actor=actor()))
    if as_json:
        emit({"practice_id": str(pid), "deleted": True}, as_json)
    else:
        click.echo("SCIM configuration deleted")


@scim.group("token")
def scim_token() -> None:
    """Static bearer tokens."""


@scim_token.command("create")
@practice_option
@json_option
@with_database
def scim_token_create(practice: str, as_json: bool, database: Database) -> None:
    """Issue a long-lived static bearer token, shown once."""
    pid = practice_id(practice)
    token = run(database, lambda s: s.practices.create_static_token(pid, actor=actor()))
    emit({"id": str(token.id), "token": token.token, "created_at": token.created_at}, as_json)


@scim_token.command("list")
@practice_option
@json_option
@with_database
def scim_token_list(practice: str, as_json: bool, database: Database) -> None:
    """The practice's live static tokens, masked, oldest first."""
    pid = practice_id(practice)
    tokens = run(database, lambda s: s.practices.list_static_tokens(pid))
    emit(
        [
            {"id": str(t.id), "token": mask_secret(t.hint), "created_at": t.created_at}
            for t in tokens
        ],
        as_json,
    )


@scim_token.command("revoke")
@practice_option
@click.argument("token_id")
@json_option
@with_database
def scim_token_revoke(practice: str, token_id: str, as_json: bool, database: Database) -> None:
    """Revoke one static token (its id, from scim token list)."""
    pid = practice_id(practice)
    try:
        tid = UUID(token_id)
    except ValueError:
        raise click.BadParameter(f"{token_id!r} is not a token id") from None
    run(database, lambda s: s.practices.revoke_static_token(pid, tid, actor=actor()))
    if as_json:
        emit({"id": str(tid), "revoked": True}, as_json)
    else:
        click.echo(f"static token {tid} revoked")


@click.command("audit")
@practice_option
@click.option(
    "--limit", default=100, show_default=True, type=click.IntRange(min=1), help="Newest N."
)
@json_option
@with_database
def audit(practice: str, limit: int, as_json: bool, database: Database) -> None:
    """The practice's audit log, newest first."""
    pid = practice_id(practice)
    entries = run(database, lambda s: s.practices.audit_log(pid, limit=limit))
    emit(
        [
            {"created_at": e.created_at, "actor": e.actor, "action": e.action, "detail": e.detail}
            for e in entries
        ],
        as_json,
    )
