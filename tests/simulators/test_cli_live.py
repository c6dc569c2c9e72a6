"""``scimlab simulate`` as a QA engineer runs it: a separate process against ``scimlab serve``
on a real socket, with the credentials the CLI printed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.reliability.support import free_port
from tests.served import Served, clean_env, cli, cli_in_process, cli_json

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

USER_AGENTS = {
    "entra": "scimlab-simulator/1 (simulating Microsoft Entra ID provisioning)",
    "okta": "Okta SCIM Client 1.0.0",
    "google": "scimlab-simulator/1 (simulating Google Workspace provisioning)",
}


@dataclass
class Live:
    server: Served
    env: dict[str, str]


@dataclass
class Practice:
    id: str
    scim_url: str
    token_url: str
    client_id: str
    client_secret: str
    admin_key: str
    static_token: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    where = tmp_path_factory.mktemp("live")
    env = clean_env(SCIMLAB_DATABASE_URL=f"sqlite:///{where / 'live.db'}")
    server = Served(free_port(), env, where / "serve.log").start()
    yield Live(server, env)
    server.stop()


@pytest.fixture
def practice(live: Live) -> Practice:
    """A new practice from ``scimlab practice create`` (in this process), its SCIM enabled and
    a static token made through the management API of the live server: the same service calls
    as ``scimlab scim enable`` and ``scim token create``, without an interpreter for each."""
    made = cli_json(cli_in_process("practice", "create", "Sim Clinic", "--json", env=live.env))
    pid = made["practice_id"]
    api = f"{live.server.base}/api/v1/practices/{pid}/scim"
    headers = {"Authorization": f"Bearer {made['admin']['api_key']}"}
    enabled = httpx.post(f"{api}/enable", headers=headers)
    assert enabled.status_code == 200, enabled.text
    scim = enabled.json()
    made_token = httpx.post(f"{api}/tokens", headers=headers)
    assert made_token.status_code == 201, made_token.text
    token = made_token.json()
    return Practice(
        pid,
        scim["scim_endpoint_url"],
        scim["token_endpoint_url"],
        scim["client_id"],
        scim["client_secret"],
        made["admin"]["api_key"],
        token["token"],
    )


def simulate(live: Live, idp: str, *args: str) -> Any:
    return cli("simulate", idp, *args, env=live.env)


def oauth(p: Practice) -> list[str]:
    return ["--scim-url", p.scim_url, "--token-url", p.token_url,
            "--client-id", p.client_id, "--client-secret", p.client_secret]  # fmt: skip


def token_status(p: Practice, secret: str) -> int:
    return httpx.post(
        p.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": p.client_id,
            "client_secret": secret,
        },
    ).status_code


def test_all_leaves_rotation_out_unless_allowed_and_reports_the_skip(
    live: Live, practice: Practice, tmp_path: Path
) -> None:
    report = tmp_path / "entra"
    done = simulate(
        live, "entra", *oauth(practice), "--scenario", "all", "--users", "2", "--no-wait",
        "--platform-url", live.server.base, "--admin-key", practice.admin_key,
        "--report", str(report),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "skipping secret-rotation" in done.stderr
    assert token_status(practice, practice.client_secret) == 200  # nothing was rotated

    payload = json.loads((tmp_path / "entra.json").read_text())
    assert payload["skipped"] == [
        {
            "scenario": "secret-rotation",
            "status": "skipped",
            "title": payload["skipped"][0]["title"],
            "reason": "rotates the practice's client secret: name it or add --allow-rotation",
        }
    ]
    junit = ET.parse(tmp_path / "entra.xml").getroot()  # noqa: S314 - our own report
    [suite] = [s for s in junit.iter("testsuite") if s.get("name", "").startswith("secret-rot")]
    assert suite.get("skipped") == "1"
    assert suite.find("testcase/skipped") is not None

    # What was run, in both reports.
    run = payload["run"]
    assert run["target"] == practice.scim_url
    assert run["idp"] == "entra"
    assert run["variants"] == []
    assert run["options"]["scenarios"] == ["all"]
    assert run["options"]["users"] == 2
    assert run["scimlab_version"]
    assert run["started_at"].endswith("Z")
    assert run["finished_at"] >= run["started_at"]
    properties = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert properties["target"] == practice.scim_url
    assert properties["idp"] == "entra"


def test_strict_turns_a_skip_into_a_failure(live: Live, practice: Practice, tmp_path: Path) -> None:
    done = simulate(
        live, "entra", *oauth(practice), "--users", "2",
        "--scenario", "all", "--no-wait", "--strict", "--report", str(tmp_path / "g"),
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    payload = json.loads((tmp_path / "g.json").read_text())
    assert payload["passed"] is False
    assert all(r["passed"] for r in payload["runs"])  # only the skip failed the run
    # Both use scimlab's management API, which this run was not given.
    assert [s["scenario"] for s in payload["skipped"]] == ["secret-rotation", "X-01"]
    junit = ET.parse(tmp_path / "g.xml").getroot()  # noqa: S314 - our own report
    [suite] = [s for s in junit.iter("testsuite") if s.get("name", "").startswith("secret-rot")]
    assert suite.get("failures") == "1"


def test_rotation_by_name_prints_what_the_next_command_needs(
    live: Live, practice: Practice, tmp_path: Path
) -> None:
    transcript = tmp_path / "rotation.txt"
    done = simulate(
        live, "entra", *oauth(practice), "--scenario", "secret-rotation", "--no-wait",
        "--platform-url", live.server.base, "--admin-key", practice.admin_key,
        "--transcript", str(transcript),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    secret = next(
        line.split(":", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.strip().startswith("client secret:")
    )
    assert secret != practice.client_secret
    assert secret not in done.stdout
    assert token_status(practice, secret) == 200
    assert token_status(practice, practice.client_secret) == 401
    # The static token died with the old secret; the replacement printed works.
    token = next(
        line.split(":", 1)[1].split()[0]
        for line in done.stderr.splitlines()
        if line.strip().startswith("static token:")
    )
    users = httpx.get(f"{practice.scim_url}/Users", headers={"Authorization": f"Bearer {token}"})
    assert users.status_code == 200
    text = transcript.read_text()
    assert "management.regenerate_secret" in text
    assert secret not in text


@pytest.mark.parametrize("idp", ["entra", "okta", "google"])
def test_jsonl_transcript_with_real_token_latency_and_the_idps_user_agent(
    live: Live, practice: Practice, tmp_path: Path, idp: str
) -> None:
    auth = {
        "entra": oauth(practice),
        "okta": ["--scim-url", practice.scim_url, "--basic",
                 f"{practice.client_id}:{practice.client_secret}"],
        "google": ["--scim-url", practice.scim_url, "--token", practice.static_token],
    }[idp]  # fmt: skip
    path = tmp_path / "t.jsonl"
    done = simulate(live, idp, *auth, "--scenario", "onboard", "--users", "2",
                    "--transcript", str(path))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines
    assert all(line["scenario"] == "onboard" for line in lines)
    assert {line["request_headers"]["user-agent"] for line in lines} == {USER_AGENTS[idp]}
    tokens = [line for line in lines if line["label"] == "auth.token"]
    assert bool(tokens) == (idp == "entra")
    assert all(t["elapsed"] > 0 for t in tokens)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--scim-url", "http://127.0.0.1:9/scim/v2/x", "--token", "t"],
         "cannot reach --scim-url (http://127.0.0.1:9/scim/v2/x): nothing answers there"),
        (["--scim-url", "127.0.0.1:9/scim/v2/x", "--token", "t"],
         "--scim-url must be an http:// or https:// URL"),
        (["--scim-url", "{scim}", "--token", "t", "--platform-url", "{base}"],
         "--platform-url and --admin-key go together"),
        (["--scim-url", "{scim}", "--token-url", "{base}/oauth/token", "--client-id", "c",
          "--client-secret", "s", "--platform-url", "{base}",
          "--admin-key", "sak_wrong", "--scenario", "secret-rotation"],
         "refused --admin-key (401)"),
        (["--scim-url", "{scim}", "--token-url", "{base}/oauth/token", "--client-id", "c",
          "--client-secret", "s", "--platform-url", "http://127.0.0.1:9",
          "--admin-key", "sak_wrong", "--scenario", "secret-rotation"],
         "cannot reach --platform-url"),
    ],
    ids=["unreachable", "no-scheme", "half-platform", "wrong-key", "platform-down"],
)  # fmt: skip
def test_a_wrong_value_gets_a_sentence(
    live: Live, practice: Practice, args: list[str], says: str
) -> None:
    filled = [a.format(scim=practice.scim_url, base=live.server.base) for a in args]
    if "--scenario" not in filled:
        filled += ["--scenario", "G-01"]
    done = simulate(live, "entra" if "--client-id" in filled else "google", *filled)
    assert done.returncode == 2, done.stdout + done.stderr
    assert says in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr + done.stdout


def test_a_variant_with_its_own_scenario_plays_it(live: Live, practice: Practice) -> None:
    done = simulate(live, "google", "--scim-url", practice.scim_url, "--token",
                    practice.static_token, "--scenario", "G-02", "--variant", "delete")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "G-02 with --variant delete plays G-02-delete" in done.stderr
