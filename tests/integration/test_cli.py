"""The ``scimlab`` command line against each database backend.

What the command line does is checked where it lands: in the same database the app serves,
so a secret the CLI prints must work at ``/oauth/token`` and one it replaced must not.

The commands run in this process through click's test runner, with the environment a new
shell gives the console script: starting an interpreter for each would only add its start-up.
``test_migrate_reports_success`` runs the installed console script as a real process, as do
tests/integration/test_cli_operator.py and test_readme_commands.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from server.cli import main

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from litestar.testing import AsyncTestClient

    from server.persistence.store import PiccoloStore

SCIMLAB = Path(sys.executable).parent / "scimlab"
PUBLIC_URL = "https://example.test"
CREDENTIAL_KEYS = {
    "scim_endpoint_url",
    "token_endpoint_url",
    "client_id",
    "client_secret",
    "secret_shown",
    "enabled",
}


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        assert self.code == 0, self.stderr
        payload: dict[str, Any] = json.loads(self.stdout)
        return payload


if TYPE_CHECKING:
    Runner = Callable[..., Awaitable[Outcome]]


def _environment(database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIMLAB_")}
    env["SCIMLAB_PUBLIC_URL"] = PUBLIC_URL
    if database_url is not None:
        env["SCIMLAB_DATABASE_URL"] = database_url
    return env


async def _run(*args: str, database_url: str | None = None) -> Outcome:
    process = await asyncio.create_subprocess_exec(
        str(SCIMLAB),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_environment(database_url),
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Outcome(process.returncode, stdout.decode("utf-8"), stderr.decode("utf-8"))


def _invoke(*args: str, database_url: str | None = None) -> Outcome:
    """``scimlab ARGS`` in this process, with ``_environment``'s variables (the others of
    ``SCIMLAB_*`` unset). An exception the command let through is written to stderr as the
    traceback the console script would print."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("SCIMLAB_")}
    env = unset | {k: v for k, v in _environment(database_url).items() if k.startswith("SCIMLAB_")}
    result = CliRunner().invoke(main, list(args), prog_name="scimlab", env=env)
    stderr = result.stderr
    if result.exc_info is not None and not isinstance(result.exception, SystemExit | None):
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return Outcome(result.exit_code, result.stdout, stderr)


@pytest.fixture
def scimlab(database_url: str) -> Runner:
    """Runs a ``scimlab`` command against this run's database. A command runs its own event
    loop (``asyncio.run``), so it runs in a thread of its own."""

    async def run(*args: str) -> Outcome:
        return await asyncio.to_thread(_invoke, *args, database_url=database_url)

    return run


@pytest.fixture
async def clinic(scimlab: Runner) -> dict[str, Any]:
    """``practice create --json`` output for a fresh practice."""
    return (await scimlab("practice", "create", "Clinic", "--json")).json()


async def _token_status(client: AsyncTestClient[Any], client_id: str, secret: str) -> int:
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    return response.status_code


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["migrate"],
        ["practice", "create"],
        ["practice", "list"],
        ["scim", "enable"],
        ["scim", "show"],
        ["scim", "disable"],
        ["scim", "regenerate-secret"],
        ["scim", "delete"],
        ["scim", "token", "create"],
        ["scim", "token", "list"],
        ["scim", "token", "revoke"],
        ["audit"],
    ],
    ids=lambda c: " ".join(c) or "scimlab",
)
def test_help(command: list[str]) -> None:
    outcome = _invoke(*command, "--help")
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout.startswith("Usage: scimlab")
    assert " ".join(["scimlab", *command]) in outcome.stdout.splitlines()[0]
    assert outcome.stderr == ""


async def test_practice_create_prints_the_first_admin(
    clinic: dict[str, Any], store: PiccoloStore
) -> None:
    assert clinic["name"] == "Clinic"
    admin = clinic["admin"]
    assert admin["username"] == "admin"
    assert len(admin["password"]) >= 16
    assert admin["api_key"].startswith("sak_")
    practice = await store.practices.get(uuid.UUID(clinic["practice_id"]))
    assert practice is not None
    assert practice.name == "Clinic"


async def test_enable_prints_credentials_once_and_show_masks_them(
    scimlab: Runner, clinic: dict[str, Any], client: AsyncTestClient[Any]
) -> None:
    pid = clinic["practice_id"]
    enabled = (await scimlab("scim", "enable", "--practice", pid, "--json")).json()
    assert set(enabled) == CREDENTIAL_KEYS
    assert enabled["scim_endpoint_url"] == f"{PUBLIC_URL}/scim/v2/{pid}"
    assert enabled["token_endpoint_url"] == f"{PUBLIC_URL}/oauth/token"
    assert enabled["client_secret"].startswith("scs_")
    assert enabled["secret_shown"] is True
    assert enabled["enabled"] is True
    assert await _token_status(client, enabled["client_id"], enabled["client_secret"]) == 200

    shown = await scimlab("scim", "show", "--practice", pid)
    assert shown.code == 0, shown.stderr
    assert enabled["client_secret"] not in shown.stdout
    assert f"client_id: {enabled['client_id']}" in shown.stdout
    assert "secret_shown: False" in shown.stdout
    secret_line = next(
        line for line in shown.stdout.splitlines() if line.startswith("client_secret: ")
    )
    assert secret_line.endswith(enabled["client_secret"][-4:])


async def test_disable_needs_its_confirmation_word_and_enable_resumes(
    scimlab: Runner, clinic: dict[str, Any], client: AsyncTestClient[Any]
) -> None:
    pid = clinic["practice_id"]
    enabled = (await scimlab("scim", "enable", "--practice", pid, "--json")).json()

    for confirm in ([], ["--confirm", "disable"]):
        refused = await scimlab("scim", "disable", "--practice", pid, *confirm)
        assert refused.code != 0
        assert "DISABLE" in refused.stderr
        assert "Traceback" not in refused.stderr
    shown = (await scimlab("scim", "show", "--practice", pid, "--json")).json()
    assert shown["enabled"] is True

    disabled = await scimlab("scim", "disable", "--practice", pid, "--confirm", "DISABLE", "--json")
    assert disabled.json()["enabled"] is False
    assert enabled["client_secret"] not in disabled.stdout
    assert await _token_status(client, enabled["client_id"], enabled["client_secret"]) == 400

    resumed = (await scimlab("scim", "enable", "--practice", pid, "--json")).json()
    assert resumed["client_id"] == enabled["client_id"]
    assert resumed["enabled"] is True
    assert resumed["secret_shown"] is False
    assert resumed["client_secret"] != enabled["client_secret"]  # masked, not shown again
    assert await _token_status(client, enabled["client_id"], enabled["client_secret"]) == 200


async def test_regenerate_secret_and_static_token(
    scimlab: Runner, clinic: dict[str, Any], client: AsyncTestClient[Any], store: PiccoloStore
) -> None:
    pid = clinic["practice_id"]
    enabled = (await scimlab("scim", "enable", "--practice", pid, "--json")).json()

    regenerated = (await scimlab("scim", "regenerate-secret", "--practice", pid, "--json")).json()
    assert set(regenerated) == CREDENTIAL_KEYS
    assert regenerated["secret_shown"] is True
    assert regenerated["client_id"] == enabled["client_id"]
    assert regenerated["client_secret"] != enabled["client_secret"]
    assert await _token_status(client, enabled["client_id"], enabled["client_secret"]) == 401
    assert await _token_status(client, enabled["client_id"], regenerated["client_secret"]) == 200

    created = (await scimlab("scim", "token", "create", "--practice", pid, "--json")).json()
    assert created["token"].startswith("sst_")
    users = await client.get(
        f"/scim/v2/{pid}/Users", headers={"Authorization": f"Bearer {created['token']}"}
    )
    assert users.status_code == 200

    # The CLI writes the same audit entries as the management API, as the operator.
    entries = await store.audit.list(uuid.UUID(pid), limit=10)
    assert [e.action for e in entries] == [
        "scim.static_token_created",
        "scim.secret_regenerated",
        "scim.enabled",
        "practice.created",
    ]
    assert all(e.actor.startswith("operator") for e in entries)
    for entry in entries:
        for secret in (regenerated["client_secret"], enabled["client_secret"], created["token"]):
            assert secret not in entry.detail


async def test_delete_needs_its_confirmation_word(
    scimlab: Runner, clinic: dict[str, Any], client: AsyncTestClient[Any]
) -> None:
    pid = clinic["practice_id"]
    enabled = (await scimlab("scim", "enable", "--practice", pid, "--json")).json()

    refused = await scimlab("scim", "delete", "--practice", pid, "--confirm", "delete")
    assert refused.code != 0
    assert "DELETE" in refused.stderr
    assert await _token_status(client, enabled["client_id"], enabled["client_secret"]) == 200

    deleted = await scimlab("scim", "delete", "--practice", pid, "--confirm", "DELETE")
    assert deleted.code == 0, deleted.stderr
    assert "deleted" in deleted.stdout
    shown = await scimlab("scim", "show", "--practice", pid)
    assert shown.code != 0
    assert "not configured" in shown.stderr
    assert "Traceback" not in shown.stderr
    assert await _token_status(client, enabled["client_id"], enabled["client_secret"]) == 401


@pytest.mark.parametrize(
    ("practice_id", "message"),
    [(str(uuid.UUID(int=7)), "no practice"), ("not-a-uuid", "is not a practice id")],
    ids=["unknown", "malformed"],
)
async def test_unknown_practice_fails_with_a_clear_message(
    scimlab: Runner, practice_id: str, message: str
) -> None:
    outcome = await scimlab("scim", "enable", "--practice", practice_id, "--json")
    assert outcome.code != 0
    assert message in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert outcome.stdout == ""


async def test_migrate_reports_success(database_url: str) -> None:
    outcome = await _run("migrate", database_url=database_url)
    assert outcome.code == 0, outcome.stderr
    assert "migrations applied" in outcome.stdout
    # It names the database it migrated, without the credentials part of the URL.
    assert outcome.stdout.strip().endswith(f"({database_url.rsplit('@', maxsplit=1)[-1]})")
