"""The README walkthrough, over a real socket, against ``scimlab serve`` (granian)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.socket

SCIMLAB = str(Path(sys.executable).parent / "scimlab")
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> dict[str, str]:
    done = subprocess.run(
        [SCIMLAB, *args], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return dict(json.loads(done.stdout))


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SCIMLAB_DATABASE_URL": database_url, "SCIMLAB_PUBLIC_URL": base}
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [SCIMLAB, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"server did not start:\n{(tmp_path / 'serve.log').read_text()}")
            time.sleep(0.1)
        yield base, env
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def test_walkthrough_over_a_real_socket(server: tuple[str, dict[str, str]]) -> None:
    base, env = server
    practice = _cli(env, "practice", "create", "Socket Clinic", "--json")
    credentials = _cli(env, "scim", "enable", "--practice", practice["practice_id"], "--json")
    scim_url = credentials["scim_endpoint_url"]
    assert scim_url == f"{base}/scim/v2/{practice['practice_id']}"
    assert credentials["token_endpoint_url"] == f"{base}/oauth/token"

    with httpx.Client(timeout=10) as http:
        assert http.get(f"{base}/readyz").json() == {"status": "ok", "database": "ok"}
        token = http.post(
            credentials["token_endpoint_url"],
            data={
                "grant_type": "client_credentials",
                "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"],
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}

        created = http.post(
            f"{scim_url}/Users",
            headers=headers,
            json={
                "schemas": [USER_SCHEMA],
                "userName": "Dana.Lee@example.org",
                "name": {"givenName": "Dana", "familyName": "Lee"},
                "nickName": "ignored",
            },
        )
        assert created.status_code == 201
        assert created.headers["server"] == "granian"
        user = created.json()
        assert "nickName" not in user
        assert created.headers["location"] == f"{scim_url}/Users/{user['id']}"

        found = http.get(
            f"{scim_url}/Users",
            params={"filter": 'userName eq "dana.lee@EXAMPLE.org"'},
            headers=headers,
        ).json()
        assert [r["id"] for r in found["Resources"]] == [user["id"]]

        deactivated = http.patch(
            f"{scim_url}/Users/{user['id']}",
            headers=headers,
            json={
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
            },
        )
        assert deactivated.json()["active"] is False
        assert http.delete(f"{scim_url}/Users/{user['id']}", headers=headers).status_code == 204
        assert http.get(f"{scim_url}/Users/{user['id']}", headers=headers).status_code == 404
