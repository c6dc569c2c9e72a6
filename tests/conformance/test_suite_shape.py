"""The shape of the suites: stable, documented check ids; black-box modules; a command line
that refuses incomplete targets; reports that never carry a secret."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from conformance.cli import conform
from conformance.exchange import REDACTED, Redactor
from conformance.registry import AREAS, all_checks, parse_areas

PACKAGE = Path(__file__).resolve().parents[2] / "conformance"
RULE = re.compile(r"RFC \d{4}|[Pp]latform rule|Okta|Entra|Microsoft|SAML 2\.0")


def test_check_ids_are_stable_numbered_and_documented() -> None:
    checks = all_checks()
    for area in AREAS:
        ids = [c.id for c in checks if c.area is area]
        assert sorted(ids) == [f"{area.code}-{n:03d}" for n in range(1, len(ids) + 1)]
    for check in checks:
        assert check.title, check.id
        assert len(check.title) <= 80, check.id
        assert RULE.search(check.rule), check.id
        assert RULE.search(check.doc), check.id
    assert [c.id for c in checks if c.last] == ["TA-013", "TA-014", "TA-015"]
    assert [c.id for c in checks][-3:] == ["TA-013", "TA-014", "TA-015"]


def test_areas_parse_by_code_or_marker() -> None:
    assert [a.code for a in parse_areas(["ta", "idp-readiness", "rfc_core"])] == ["TA", "IR", "RC"]
    with pytest.raises(ValueError, match="unknown area"):
        parse_areas(["XX"])


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_conformance_is_black_box(path: Path) -> None:
    tree = ast.parse(path.read_text())
    imported = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 0
    } | {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not imported & {"server", "tests", "litestar", "piccolo", "asyncpg", "aiosqlite"}
    assert len(path.read_text().splitlines()) <= 320


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        (["--scim-url", "http://x.test/scim"], "give --token or"),
        (
            [
                "--scim-url",
                "http://x.test/scim",
                "--token",
                "t",
                "--token-url",
                "http://x.test/t",
                "--client-id",
                "c",
                "--client-secret",
                "s",
            ],
            "either",
        ),
        (["--scim-url", "http://x.test/scim", "--token-url", "http://x.test/t"], "go together"),
        (["--scim-url", "ftp://x.test", "--token", "t"], "http(s) URL"),
        (["--scim-url", "http://x.test/scim", "--token", "t", "--only", "XX"], "unknown area"),
        (
            ["--scim-url", "http://x.test/scim", "--token", "t", "--platform-url", "http://x.test"],
            "together",
        ),
    ],
)
def test_conform_refuses_incomplete_targets(arguments: list[str], complaint: str) -> None:
    result = CliRunner().invoke(conform, arguments)
    assert result.exit_code == 2
    assert complaint in result.output


def test_redaction_blanks_credentials_everywhere() -> None:
    redactor = Redactor(["scs_the-client-secret"])
    request = httpx.Request(
        "POST",
        "http://x.test/oauth/token",
        headers={
            "Authorization": "Basic Zm9vOmJhcg==",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        content=b"grant_type=client_credentials&client_secret=hunter2-secret",
    )
    body = {
        "access_token": "sat_issued-token",
        "token_type": "Bearer",
        "note": "scs_the-client-secret!",
    }
    response = httpx.Response(200, json=body, request=request)
    redactor.learn(response.json())
    exchange = redactor.exchange(response, 1.0)
    text = json.dumps(exchange.as_dict())
    for secret in ("Zm9vOmJhcg==", "hunter2-secret", "sat_issued-token", "scs_the-client-secret"):
        assert secret not in text
    assert exchange.request_headers["authorization"] == f"Basic {REDACTED}"
    assert '"token_type": "Bearer"' in exchange.response_body


def test_redaction_keeps_cookie_names_and_blanks_their_values() -> None:
    request = httpx.Request(
        "GET", "http://x.test/console", headers={"Cookie": "sso=state-value; session=held-one"}
    )
    response = httpx.Response(
        303,
        headers=[
            ("Set-Cookie", "session=new-session-token; Path=/; Secure; HttpOnly"),
            ("Set-Cookie", 'sso=""; Max-Age=0; Path=/sso/'),
        ],
        request=request,
    )
    exchange = Redactor().exchange(response, 1.0)
    text = json.dumps(exchange.as_dict())
    for secret in ("state-value", "held-one", "new-session-token"):
        assert secret not in text
    assert exchange.request_headers["cookie"] == f"sso={REDACTED}; session={REDACTED}"
    assert exchange.response_headers["set-cookie"] == (
        f'session={REDACTED}; Path=/; Secure; HttpOnly, sso=""; Max-Age=0; Path=/sso/'
    )
