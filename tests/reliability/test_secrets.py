"""Secrets: no secret, token or password appears in the logs, error bodies, audit entries,
metrics or anywhere in the database; what must be kept is kept hashed; comparisons of
secrets are constant-time (checked in the code)."""

from __future__ import annotations

import ast
import base64
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.reliability.support import (
    Dumper,
    Server,
    bearer,
    enable_practice,
    fresh_database,
    query,
    user_body,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.reliability

SERVER = Path(__file__).resolve().parents[2] / "server"
PROVIDER_PASSWORD = "Pr0vider-Sent-Passw0rd!"


async def test_no_secret_in_logs_errors_audit_metrics_or_rows(tmp_path: Path) -> None:
    async with fresh_database("sqlite", tmp_path) as url:
        server = Server(url, tmp_path / "serve.log", extra_env={"SCIMLAB_LOG_LEVEL": "DEBUG"})
        credentials = enable_practice(server.env)
        server.start()
        try:
            secrets, errors, audit, metrics = await _lifecycle(server, credentials)
        finally:
            server.stop()
        async with Dumper(url) as dumper:
            rows = json.dumps(await dumper.dump())
        hashes = await query(url, "SELECT secret_hash FROM scim_config")
        tokens = await query(url, "SELECT token_hash FROM access_token")
        admin = await query(
            url, "SELECT password_hash, api_key_hash FROM staff_user WHERE is_practice_admin"
        )
    logs = (tmp_path / "serve.log").read_text()
    assert len(secrets) >= 8
    for secret in secrets:
        assert secret not in logs, "a secret in the logs"
        assert secret not in errors, "a secret in an error body"
        assert secret not in audit, "a secret in the audit log"
        assert secret not in metrics, "a secret in the metrics"
        assert secret not in rows, "a secret stored in clear"
    # Kept hashed: SHA-256 for 256-bit random credentials, Argon2id for the password.
    assert hashes == [(_sha256(credentials["current_secret"]),)]
    assert _sha256(credentials["access_token"]) in {t[0] for t in tokens}
    password_hash, api_key_hash = admin[0]
    assert password_hash.startswith("$argon2id$")
    assert api_key_hash == _sha256(credentials["api_key"])
    print(
        f"\n{len(secrets)} secrets; none in {len(logs.splitlines())} log lines, errors, audit, rows"
    )


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def _lifecycle(
    server: Server, credentials: dict[str, str]
) -> tuple[list[str], str, str, str]:
    scim, token_url = credentials["scim_endpoint_url"], credentials["token_endpoint_url"]
    management = f"{server.base}/api/v1/practices/{credentials['practice_id']}/scim"
    admin = {"Authorization": f"Bearer {credentials['api_key']}"}
    secrets = [credentials["client_secret"], credentials["api_key"], credentials["password"]]
    errors: list[str] = []
    async with httpx.AsyncClient(timeout=10) as http:
        token = await bearer(http, token_url, credentials)
        headers = {"Authorization": f"Bearer {token}"}
        await http.post(
            f"{scim}/Users",
            json=user_body("p@x.org", password=PROVIDER_PASSWORD),
            headers=headers,
        )
        static = (await http.post(f"{management}/tokens", headers=admin)).json()["token"]
        basic = base64.b64encode(
            f"{credentials['client_id']}:{credentials['client_secret']}".encode()
        )
        calls = [
            http.get(f"{scim}/Users", headers={"Authorization": f"Bearer {static}"}),
            http.get(f"{scim}/Users", headers={"Authorization": f"Basic {basic.decode()}"}),
            http.get(f"{scim}/Users", headers={"Authorization": f"Bearer {token}x"}),
            http.get(f"{scim}/Users", headers={"Authorization": f"Basic {basic.decode()}x"}),
            http.post(
                token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": credentials["client_id"],
                    "client_secret": credentials["client_secret"] + "x",
                },
            ),
            http.post(
                token_url,
                data={
                    "grant_type": "password",
                    "username": "a",
                    "password": credentials["password"],
                },
            ),
            http.get(management, headers={"Authorization": f"Bearer {credentials['api_key']}x"}),
            http.post(f"{scim}/Users", content=f'{{"userName": "{token}"', headers=headers),
        ]
        for call in calls:
            response = await call
            if response.status_code >= 400:
                errors.append(response.text)
        regenerated = (await http.post(f"{management}/regenerate-secret", headers=admin)).json()
        credentials["current_secret"] = regenerated["client_secret"]
        credentials["access_token"] = await bearer(
            http, token_url, {**credentials, "client_secret": regenerated["client_secret"]}
        )
        audit = (await http.get(f"{management}/audit", headers=admin)).text
        metrics = (await http.get(f"{server.base}/metrics")).text
    secrets += [token, static, regenerated["client_secret"], credentials["access_token"]]
    secrets += [PROVIDER_PASSWORD, f"{token}x", credentials["client_secret"] + "x"]
    return secrets, "\n".join(errors), audit, metrics


# --- constant-time comparison, by inspection -----------------------------------------------


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(SERVER.rglob("*.py")):
        if "piccolo_migrations" not in path.parts:
            yield path, ast.parse(path.read_text(), filename=str(path))


def _calls(node: ast.AST) -> set[str]:
    names = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            func = child.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def test_secret_comparisons_are_constant_time() -> None:
    tree = ast.parse((SERVER / "security.py").read_text())
    equals = next(
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef) and n.name == "constant_time_equals"
    )
    assert "compare_digest" in _calls(equals)
    assert "hmac" in {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    # The client secret checks (token endpoint, HTTP Basic on SCIM) go through it.
    service = ast.parse((SERVER / "auth" / "service.py").read_text())
    for method in ("client_credentials", "practice_for_basic"):
        body = next(
            n for n in ast.walk(service) if isinstance(n, ast.AsyncFunctionDef) and n.name == method
        )
        assert "constant_time_equals" in _calls(body), method
    # Passwords are verified by Argon2 (constant-time inside); nowhere is a secret, password
    # or key compared with == or != in Python (lookups by hash happen in SQL, on an index).
    sensitive = ("secret", "password", "api_key", "credential")
    offenders = []
    for path, module in _modules():
        for node in ast.walk(module):
            if not isinstance(node, ast.Compare) or not any(
                isinstance(op, ast.Eq | ast.NotEq) for op in node.ops
            ):
                continue
            sides = [node.left, *node.comparators]
            if any(isinstance(side, ast.Constant) for side in sides):
                continue  # against a literal (None, a kind name): no secret on both sides
            names = {
                (n.id if isinstance(n, ast.Name) else n.attr).lower()
                for side in sides
                for n in ast.walk(side)
                if isinstance(n, ast.Name | ast.Attribute)
            }
            if any(
                word in name and "hash" not in name and "id" not in name
                for name in names
                for word in sensitive
            ):
                offenders.append(f"{path.relative_to(SERVER)}:{node.lineno}")
    assert offenders == []
