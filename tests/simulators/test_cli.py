"""``scimlab simulate`` without a server: listing and refusing bad invocations."""

from __future__ import annotations

from click.testing import CliRunner

from server.cli import main
from simulators.core.registry import builtin_scenarios

URL = "http://127.0.0.1:9/scim/v2/x"  # never contacted: every case fails before a request


def test_list_prints_one_line_per_scenario() -> None:
    done = CliRunner().invoke(main, ["simulate", "list"])
    assert done.exit_code == 0
    lines = done.output.strip().splitlines()
    assert len(lines) == len(builtin_scenarios())
    assert lines[0].split()[:2] == ["E-01", "entra"]


def test_exactly_one_auth_mode_is_required() -> None:
    for extra in ([], ["--token", "t", "--basic", "a:b"], ["--client-id", "x"]):
        done = CliRunner().invoke(
            main, ["simulate", "okta", "--scim-url", URL, "--scenario", "O-01", *extra]
        )
        assert done.exit_code == 2, done.output


def test_scenarios_are_checked_against_the_idp_and_its_needs() -> None:
    runner = CliRunner()
    wrong_idp = runner.invoke(
        main, ["simulate", "okta", "--scim-url", URL, "--token", "t", "--scenario", "E-04"]
    )
    assert wrong_idp.exit_code == 2
    assert "E-04 is for entra" in wrong_idp.output
    rotation = runner.invoke(
        main,
        [
            "simulate",
            "entra",
            "--scim-url",
            URL,
            "--token-url",
            URL,
            "--client-id",
            "c",
            "--client-secret",
            "s",
            "--scenario",
            "secret-rotation",
        ],
    )
    assert rotation.exit_code == 2
    assert "needs --platform-url and --admin-key" in rotation.output
    unknown_variant = runner.invoke(
        main,
        [
            "simulate",
            "google",
            "--scim-url",
            URL,
            "--token",
            "t",
            "--scenario",
            "G-01",
            "--variant",
            "aiw",
        ],
    )
    assert unknown_variant.exit_code == 2
