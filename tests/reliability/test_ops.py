"""Operations: JSON-lines logs with a request id on every line, the id in every error body
and response header, Prometheus metrics per route, status and practice, readiness, and the
security headers of token, management and console responses."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from server.ops.heap import YOUNG_THRESHOLD
from tests.conftest import new_practice
from tests.reliability.support import (
    Server,
    assert_api_error,
    assert_oauth_error,
    assert_scim_error,
    bearer,
    deployment,
    enable_practice,
    fresh_database,
    user_body,
)

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.reliability


def _samples(metrics: str, name: str) -> list[tuple[dict[str, str], float]]:
    found = []
    for line in metrics.splitlines():
        match = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line)
        if match:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(1)))
            found.append((labels, float(match.group(2))))
    return found


async def test_logs_metrics_and_readiness_of_a_served_app(tmp_path: Path) -> None:
    async with fresh_database("sqlite", tmp_path) as url:
        server = Server(url, tmp_path / "serve.log")
        credentials = enable_practice(server.env)
        server.start()
        try:
            await _exercise(server, credentials)
        finally:
            server.stop()
    lines = server.log_lines()
    entries = [json.loads(line) for line in lines]  # every line is JSON
    ready = [e for e in entries if e["message"] == "ready"]
    assert [e["event_loop"] for e in ready] == ["uvloop.Loop"]  # one worker, serving on uvloop
    # the startup heap is frozen out of full collections (server.ops.heap)
    assert ready[0]["frozen_objects"] > 50_000
    assert ready[0]["gc_thresholds"][0] == YOUNG_THRESHOLD
    assert all("request_id" in entry for entry in entries)
    access = [e for e in entries if e["logger"] == "scimlab.access"]
    assert len(access) >= 10
    assert all(re.fullmatch(r"[A-Za-z0-9._:-]{8,64}", e["request_id"]) for e in access)
    assert {e["request_id"] for e in access} >= {"caller-chosen-id-0001"}
    print(f"\n{len(entries)} log lines, {len(access)} access lines, all JSON with request ids")


async def _exercise(server: Server, credentials: dict[str, str]) -> None:
    practice = credentials["practice_id"]
    scim = credentials["scim_endpoint_url"]
    async with httpx.AsyncClient(timeout=10) as http:
        token = await bearer(http, credentials["token_endpoint_url"], credentials)
        headers = {"Authorization": f"Bearer {token}"}
        for i in range(3):
            created = await http.post(
                f"{scim}/Users", json=user_body(f"u{i}@x.org"), headers=headers
            )
            assert created.status_code == 201
        echoed = await http.get(
            f"{scim}/Users", headers={**headers, "X-Request-ID": "caller-chosen-id-0001"}
        )
        assert echoed.headers["x-request-id"] == "caller-chosen-id-0001"
        hostile = await http.get(
            f"{scim}/Users", headers={**headers, "X-Request-ID": "<script>a b"}
        )
        assert hostile.headers["x-request-id"] != "<script>a b"
        # Every error body carries the id of its response header.
        assert_scim_error(await http.get(f"{scim}/Users/{'0' * 32}", headers=headers), 404)
        assert_scim_error(
            await http.get(f"{scim}/Users", headers={"Authorization": "Bearer no"}), 401
        )
        assert_scim_error(await http.get(f"{scim}/Nothing", headers=headers), 404)
        assert_oauth_error(
            await http.post(server.base + "/oauth/token", data={"grant_type": "password"}), 401
        )
        assert_api_error(await http.get(f"{server.base}/api/v1/practices/{practice}/scim"))
        assert_api_error(await http.get(f"{server.base}/no/such/page"))

        assert (await http.get(f"{server.base}/readyz")).json() == {
            "status": "ok",
            "database": "ok",
        }
        metrics = (await http.get(f"{server.base}/metrics")).text
    samples = _samples(metrics, "scimlab_requests_total")
    created_count = [
        value
        for labels, value in samples
        if labels["path"] == "/scim/v2/{practice_id}/Users"
        and labels["method"] == "POST"
        and labels["status_code"] == "201"
        and labels["practice"] == practice
    ]
    assert created_count == [3.0]
    unauthenticated = [
        labels
        for labels, _ in samples
        if labels["status_code"] == "401" and "scim" in labels["path"]
    ]
    assert unauthenticated
    assert all(labels["practice"] == "-" for labels in unauthenticated)
    assert any(labels["path"] == "/oauth/token" for labels, _ in samples)
    assert _samples(metrics, "scimlab_request_duration_seconds_count")


@pytest.mark.parametrize("public_url", ["http://scimlab.test", "https://scimlab.test"])
async def test_security_headers(tmp_path: Path, public_url: str) -> None:
    async with deployment("sqlite", tmp_path, public_url=public_url) as d:
        practice = await new_practice(d.client, d.store, d.settings)
        responses: dict[str, Any] = {
            "token": await d.client.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": practice.client_id,
                    "client_secret": practice.client_secret,
                },
            ),
            "token-error": await d.client.post("/oauth/token", data={"grant_type": "x"}),
            "management": await d.client.get(
                practice.management_path, headers=practice.admin_headers
            ),
            "management-error": await d.client.get(practice.management_path),
            "console": await d.client.get("/console/login"),
        }
    for name, response in responses.items():
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff", name
        assert headers["x-frame-options"] == "DENY" or "frame-ancestors 'none'" in headers.get(
            "content-security-policy", ""
        ), name
        assert "referrer-policy" in headers, name
        assert "no-store" in headers["cache-control"], name
        assert ("strict-transport-security" in headers) is public_url.startswith("https"), name
    assert responses["token"].headers["pragma"] == "no-cache"
