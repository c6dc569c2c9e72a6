"""The activity log of a simulator run holds exactly the requests the simulator's transcript
shows, with the same statuses: ``scimlab simulate entra --scenario all`` against
``scimlab serve`` on a real socket, on both databases; read with ``scimlab scim activity``
after the server stopped (the recorder writes what is queued at shutdown)."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from typing import TYPE_CHECKING

from tests.reliability.support import free_port
from tests.served import SCIMLAB, Served, clean_env, cli_in_process, cli_json

if TYPE_CHECKING:
    from pathlib import Path

# A whole simulator run takes about 25 s on an idle 2-core machine; a loaded one needs longer
# than the 60 s tests.served.cli allows.
PATIENCE = 900


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCIMLAB), *args], env=env, capture_output=True, text=True, timeout=PATIENCE,
        check=False,
    )  # fmt: skip


SIMULATOR = "scimlab-simulator/1 (simulating Microsoft Entra ID provisioning)"


def test_the_log_of_a_simulator_run_matches_its_transcript(
    tmp_path: Path, database_url: str
) -> None:
    # The practice's default rate limit applies: a request it throttles is in the transcript
    # and in the log alike (429, with its own request id), and Entra sends it again, which
    # the scenarios do not count as a second request (simulators/scenarios/README.md).
    env = clean_env(SCIMLAB_DATABASE_URL=database_url)
    server = Served(free_port(), env, tmp_path / "serve.log").start()
    try:
        # Set-up in this process; the simulator run and the reads of the log are real processes.
        made = cli_json(cli_in_process("practice", "create", "Activity Clinic", "--json", env=env))
        pid = made["practice_id"]
        scim = cli_json(cli_in_process("scim", "enable", "--practice", pid, "--json", env=env))
        transcript = tmp_path / "entra.jsonl"
        done = cli(
            "simulate", "entra", "--scim-url", scim["scim_endpoint_url"],
            "--token-url", scim["token_endpoint_url"], "--client-id", scim["client_id"],
            "--client-secret", scim["client_secret"], "--scenario", "all",
            "--transcript", str(transcript), env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    finally:
        server.stop()
    read = cli("scim", "activity", "--practice", pid, "--json", "--limit", "10000", env=env)
    logged = cli_json(read)["items"]

    sent = [json.loads(line) for line in transcript.read_text().splitlines()]
    # What reached the server: SCIM exchanges, not the simulator's own injected failures
    # (it answers those itself) nor its token requests.
    reached = [x for x in sent if "/scim/v2/" in x["url"] and not x["injected"]]
    assert len(reached) > 200
    expected = Counter(
        (x["response_headers"]["x-request-id"], x["method"], x["status"]) for x in reached
    )
    # Before the run the simulator checks that --scim-url answers (simulators/play.py,
    # ``_reachable``: an unauthenticated GET of ServiceProviderConfig that its transcript
    # does not show); the log has it, with its own User-Agent.
    probes = [i for i in logged if i["user_agent"] != SIMULATOR]
    assert [(p["method"], p["route"].rsplit("/", 1)[-1], p["status"]) for p in probes] == [
        ("GET", "ServiceProviderConfig", 401)
    ]
    found = Counter((i["request_id"], i["method"], i["status"]) for i in logged if i not in probes)
    assert found == expected
    assert {i["credential_label"] for i in logged if i not in probes} == {
        f"OAuth client …{scim['client_id'][-4:]}"
    }
    assert scim["client_secret"] not in read.stdout
    later = cli("scim", "activity", "--practice", pid, "--json", "--since", "2999-01-01", env=env)
    assert cli_json(later) == {"items": [], "next_cursor": None}
    refused = cli("scim", "activity", "--practice", pid, "--outcome", "refused", env=env)
    assert refused.returncode == 0, refused.stderr
    assert "The identity provider sent an email address already used by" in refused.stdout
