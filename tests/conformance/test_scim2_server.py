"""The suites against scim2-server (PyPI) over a real socket, with a static bearer token.

scim2-server is a general-purpose in-memory SCIM server: no OAuth, no platform, no tenants,
and it keeps every attribute it is sent. The outcomes below are computed by the run and
checked for their reasons, not written into the suites.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from conformance.registry import Area
from conformance.runner import Outcome, run_checks
from conformance.target import Peer, Target

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.socket

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serving(log_dir: Path, *extra: str) -> Iterator[tuple[str, str]]:
    """scim2-server on a free port with a random static token: (base URL, token)."""
    # Never a leading '-': argparse (scim2-server's and ours) would read the token as an option,
    # which failed a run (one token in 64 starts with it).
    port, token = _free_port(), f"s2-{secrets.token_urlsafe(16)}"
    log = (log_dir / "server.log").open("w")
    command = [str(BIN / "scim2-server"), "--port", str(port), "--bearer-token", token, *extra]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("scim2-server did not start")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", token
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def scim2_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with _serving(tmp_path_factory.mktemp("scim2-server")) as (root, token):
        yield f"{root}/v2", token


def _outcomes(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {r["id"]: (r["outcome"], r["message"]) for r in report["results"]}


def test_conform_runs_against_scim2_server(scim2_server: tuple[str, str], tmp_path: Path) -> None:
    base, token = scim2_server
    done = subprocess.run(
        [
            str(BIN / "scimlab"),
            "conform",
            "--scim-url",
            base,
            "--token",
            token,
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "checks:" in done.stdout
    assert token not in done.stdout
    [report_file] = tmp_path.glob("*.json")
    report = json.loads(report_file.read_text())
    outcomes = _outcomes(report)
    # No OAuth: token-endpoint checks cannot apply; bearer-token checks do, and pass.
    for check_id in ("TA-001", "TA-003", "TA-005", "TA-009", "TA-011"):
        assert outcomes[check_id] == (
            "not applicable",
            "no client credentials given (--client-id/--client-secret)",
        )
    assert outcomes["TA-007"][0] == outcomes["TA-008"][0] == "pass"
    # No platform and no tenant segment in its URL.
    assert "needs the platform" in outcomes["TA-013"][1]
    assert outcomes["TI-001"][0] == "not applicable"
    # It keeps every attribute: the platform's accepted-attribute rule fails, with the exchange.
    assert outcomes["AF-001"][0] == "fail"
    assert "title" in outcomes["AF-001"][1]
    evidence = next(r["evidence"] for r in report["results"] if r["id"] == "AF-001")
    assert evidence["method"] == "POST"
    assert evidence["status"] == 201
    assert token not in report_file.read_text()
    # A general RFC server: discovery and the RFC core checks are computed and pass.
    assert outcomes["RC-001"][0] == outcomes["RC-002"][0] == "pass"
    assert report["counts"]["pass"] > 30
    [page] = tmp_path.glob("*.html")
    assert 'id="AF-001"' in page.read_text()


def test_the_rfc_profile_does_not_fail_a_general_server(
    scim2_server: tuple[str, str], tmp_path: Path
) -> None:
    """scim2-server keeps every attribute and knows no tenants: the platform's rules fail it
    (above), the RFCs' do not."""
    base, token = scim2_server
    done = subprocess.run(
        [str(BIN / "scimlab"), "conform", "--scim-url", base, "--token", token,
         "--profile", "rfc", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    [report_file] = tmp_path.glob("*.json")
    report = json.loads(report_file.read_text())
    assert report["profile"] == "rfc"
    assert {r["profile"] for r in report["results"]} == {"rfc"}
    assert report["counts"]["fail"] == 0
    assert report["counts"]["pass"] >= 28
    assert "AF-001" not in _outcomes(report)
    [page] = tmp_path.glob("*.html")
    assert "<code>rfc</code> (this run)" in page.read_text()
    assert "``" not in page.read_text()


def test_pytest_plugin_runs_against_scim2_server(scim2_server: tuple[str, str]) -> None:
    base, token = scim2_server
    done = subprocess.run(
        [
            str(BIN / "pytest"),
            "conformance",
            "--scim-url",
            base,
            "--token",
            token,
            "-p",
            "no:cacheprovider",
            "-v",
            "-m",
            "rfc_core or attribute_filtering",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "conformance/attribute_filtering.py::AF-001 FAILED" in done.stdout
    assert "conformance/rfc_core.py::RC-001 PASSED" in done.stdout
    assert "deselected" in done.stdout
    assert "TA-001" not in done.stdout


async def test_scim2_server_tenants_keep_data_apart_but_share_credentials(tmp_path: Path) -> None:
    """With two tenants (``--tenant``), scim2-server keeps their users apart, but its static
    tokens are server-wide: one tenant's credential opens the other's URL."""
    with _serving(tmp_path, "--tenant", "alpha", "--tenant", "bravo") as (root, token):
        target = Target(
            scim_url=f"{root}/alpha/v2",
            token=token,
            peer=Peer(f"{root}/bravo/v2", token),
        )
        async with httpx.AsyncClient(timeout=10) as client:
            report = await run_checks(target, client, areas=[Area.TENANCY])
    assert report.ids(Outcome.FAIL) == {"TI-001", "TI-002"}
    assert report.ids(Outcome.PASS) == {"TI-003", "TI-004", "TI-005", "TI-006", "TI-007"}
