"""What an operator meets first: ``scimlab serve`` on a real socket and the commands run
beside it as separate processes, from any directory.

Each test starts from an environment without ``SCIMLAB_*`` variables, as a new shell would.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.conftest import TEST_SECRET_KEY
from tests.reliability.support import free_port
from tests.served import Served, clean_env, cli, cli_in_process, cli_json

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from server.persistence.store import PiccoloStore

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return clean_env(SCIMLAB_DATABASE_URL=f"sqlite:///{tmp_path / 'served.db'}")


@pytest.fixture
def served(sqlite_env: dict[str, str], tmp_path: Path) -> Iterator[Served]:
    """``scimlab serve --port P`` with no public URL set."""
    server = Served(free_port(), sqlite_env, tmp_path / "serve.log").start()
    yield server
    server.stop()


def test_urls_name_the_port_served_on_also_from_another_process(
    served: Served, sqlite_env: dict[str, str], tmp_path: Path
) -> None:
    created = cli_json(cli("practice", "create", "Port Clinic", "--json", env=sqlite_env))
    pid = created["practice_id"]
    enabled = cli_json(cli("scim", "enable", "--practice", pid, "--json", env=sqlite_env))
    assert enabled["scim_endpoint_url"] == f"{served.base}/scim/v2/{pid}"
    assert enabled["token_endpoint_url"] == f"{served.base}/oauth/token"

    token = httpx.post(
        enabled["token_endpoint_url"],
        data={
            "grant_type": "client_credentials",
            "client_id": enabled["client_id"],
            "client_secret": enabled["client_secret"],
        },
    ).json()["access_token"]
    made = httpx.post(
        f"{enabled['scim_endpoint_url']}/Users",
        json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "p@x.org"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert made.status_code == 201, made.text
    assert made.json()["meta"]["location"].startswith(f"{served.base}/scim/v2/{pid}/Users/")
    sso = httpx.put(
        f"{served.base}/api/v1/practices/{pid}/sso",
        json={"issuer": "https://idp.example", "client_id": "c", "link_rule": "sub:externalId",
              "client_secret": "s"},
        headers={"Authorization": f"Bearer {created['admin']['api_key']}"},
    )  # fmt: skip
    assert sso.status_code == 200, sso.text
    assert sso.json()["redirect_uri"] == f"{served.base}/sso/{pid}/callback"

    # --public-url (or SCIMLAB_PUBLIC_URL) still wins over what serve recorded.
    shown = cli_json(
        cli("scim", "show", "--practice", pid, "--json", "--public-url", "https://idp.example",
             env=sqlite_env)
    )  # fmt: skip
    assert shown["scim_endpoint_url"] == f"https://idp.example/scim/v2/{pid}"


def test_serve_says_when_the_public_url_is_not_the_bound_address(
    sqlite_env: dict[str, str], tmp_path: Path
) -> None:
    # A public URL off loopback means production, which needs a secret key; this is not one.
    env = {
        **sqlite_env,
        "SCIMLAB_PUBLIC_URL": "https://scim.example.org",
        "SCIMLAB_ENV": "development",
    }
    server = Served(free_port(), env, tmp_path / "serve.log").start()
    server.stop()
    text = server.log.read_text()
    assert "public URL: https://scim.example.org" in text
    assert f"serving on http://127.0.0.1:{server.port}" in text


def test_a_second_serve_on_a_busy_port_refuses_to_start(
    served: Served, sqlite_env: dict[str, str], tmp_path: Path
) -> None:
    second = Served(served.port, sqlite_env, tmp_path / "second.log").start(wait=False)
    assert second.process is not None
    try:
        code = second.process.wait(timeout=40)
    finally:
        second.stop()
    assert code != 0
    text = second.log.read_text()
    assert "address already in use" in text
    assert "Traceback" not in text
    assert httpx.get(f"{served.base}/readyz").status_code == 200


def test_every_command_names_its_database_first(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'named.db'}"
    env = clean_env()
    for args in (
        ["practice", "create", "Named", "--json", "--database-url", url],
        ["practice", "list", "--database-url", url],
        ["migrate", "--database-url", url],
        ["check-user-names", "--database-url", url],
        ["secret-key", "rotate", "--database-url", url],
    ):
        done = cli(*args, env={**env, "SCIMLAB_SECRET_KEY": TEST_SECRET_KEY}, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stderr.splitlines()[0] == f"database: sqlite:///{tmp_path / 'named.db'}"
    assert not (tmp_path / "scimlab.db").exists()  # the option, not the default, was used


@pytest.mark.parametrize(
    "args",
    [
        ["scim", "show", "--practice", "00000000-0000-0000-0000-000000000007"],
        ["scim", "enable", "--practice", "00000000-0000-0000-0000-000000000007"],
        ["audit", "--practice", "00000000-0000-0000-0000-000000000007"],
        ["practice", "list"],
    ],
    ids=" ".join,
)
def test_a_missing_sqlite_file_is_refused_not_created(tmp_path: Path, args: list[str]) -> None:
    done = cli(*args, env=clean_env(), cwd=tmp_path)
    assert done.returncode != 0
    assert done.stderr.splitlines()[0] == f"database: sqlite:///{tmp_path / 'scimlab.db'}"
    assert f"no database at {tmp_path / 'scimlab.db'}" in done.stderr
    assert "--database-url" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "scimlab.db").exists()


def test_operator_commands_withcli_json(tmp_path: Path) -> None:
    # What the commands print, with no server and no working directory involved: in this
    # process (the tests above run the console script).
    cli = cli_in_process
    env = clean_env(SCIMLAB_DATABASE_URL=f"sqlite:///{tmp_path / 'ops.db'}")
    first = cli_json(cli("practice", "create", "First", "--json", env=env))
    second = cli_json(cli("practice", "create", "Second", "--json", env=env))
    cli_json(cli("scim", "enable", "--practice", second["practice_id"], "--json", env=env))

    listed = cli_json(cli("practice", "list", "--json", env=env))
    assert [(p["practice_id"], p["name"], p["scim"]) for p in listed] == [
        (first["practice_id"], "First", "not configured"),
        (second["practice_id"], "Second", "enabled"),
    ]
    assert all(ISO_Z.match(p["created_at"]) for p in listed)

    pid = second["practice_id"]
    made = cli_json(cli("scim", "token", "create", "--practice", pid, "--json", env=env))
    assert ISO_Z.match(made["created_at"]), made
    tokens = cli_json(cli("scim", "token", "list", "--practice", pid, "--json", env=env))
    assert [t["id"] for t in tokens] == [made["id"]]
    assert made["token"] not in json.dumps(tokens)
    assert tokens[0]["token"].endswith(made["token"][-4:])
    revoked = cli_json(cli("scim", "token", "revoke", "--practice", pid, made["id"], "--json",
                         env=env))  # fmt: skip
    assert revoked == {"id": made["id"], "revoked": True}
    assert cli_json(cli("scim", "token", "list", "--practice", pid, "--json", env=env)) == []
    again = cli("scim", "token", "revoke", "--practice", pid, made["id"], env=env)
    assert again.returncode != 0
    assert f"no static token {made['id']}" in again.stderr

    deleted = cli_json(
        cli("scim", "delete", "--practice", pid, "--confirm", "DELETE", "--json", env=env)
    )
    assert deleted == {"practice_id": pid, "deleted": True}

    audit = cli_json(cli("audit", "--practice", pid, "--json", env=env))
    assert [e["action"] for e in audit] == [
        "scim.deleted",
        "scim.static_token_revoked",
        "scim.static_token_created",
        "scim.enabled",
        "practice.created",
    ]
    assert all(ISO_Z.match(e["created_at"]) for e in audit)
    assert all(e["actor"].startswith("operator") for e in audit[:-1])
    text = cli("audit", "--practice", pid, "--limit", "1", env=env)
    assert text.returncode == 0, text.stderr
    assert "action: scim.deleted" in text.stdout
    assert "scim.enabled" not in text.stdout


async def test_the_recorded_public_url_is_one_row_the_last_serve_overwrites(
    store: PiccoloStore,
) -> None:
    name = f"test_{uuid.uuid4().hex[:8]}"
    assert await store.deployment.get(name) is None
    await store.deployment.put(name, "http://127.0.0.1:18100")
    await store.deployment.put(name, "http://127.0.0.1:18200")
    assert await store.deployment.get(name) == "http://127.0.0.1:18200"
