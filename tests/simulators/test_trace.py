"""Traces: the file format, validation with the line named, redaction, pseudonyms, and the
recording proxy (``scimlab record``) in front of our server."""

from __future__ import annotations

import base64
import io
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from click.testing import CliRunner

from server.cli import main
from simulators.core.auth import Credentials
from simulators.core.proxy import RecordingProxy
from simulators.core.pseudonym import Pseudonymiser
from simulators.core.registry import find_scenario, make_dialect
from simulators.core.runner import Target, run_scenario
from simulators.core.trace import (
    FORMAT,
    TraceError,
    TraceExchange,
    TraceWriter,
    load_trace,
    parse_trace,
)
from tests.simulators.conftest import BASE

if TYPE_CHECKING:
    from pathlib import Path

    from litestar.testing import AsyncTestClient

    from tests.conftest import PracticeFixture

HEADER = json.dumps({"format": FORMAT, "version": 1, "source": "proxy", "base": "http://x"})
GOOD = {
    "seq": 1,
    "at": 0.0,
    "method": "GET",
    "path": "/Users",
    "query": [],
    "request": {"headers": {}, "body": None},
    "response": {"status": 200, "headers": {}, "body": {"totalResults": 0}},
}


def _line(**changes: Any) -> str:
    return json.dumps({**GOOD, **changes})


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "empty file"),
        (['{"hello": "world"}'], "line 1: not a scimlab trace"),
        ([json.dumps({"format": FORMAT, "version": 7})], "line 1: trace version 7"),
        ([HEADER, "{not json"], "line 2: not JSON"),
        ([HEADER, "[1, 2]"], "line 2: expected a JSON object"),
        ([HEADER, _line(), _line()], "line 3: seq 1 appears twice"),
        ([HEADER, _line(response={"status": "200"})], "line 2: response: 'status' must be int"),
        ([HEADER, _line(response={"status": 42})], "line 2: response status 42"),
        ([HEADER, _line(path="Users")], "line 2: 'path' must start with '/'"),
        ([HEADER, _line(seq=True)], "line 2: 'seq' must be int"),
        ([HEADER, "", _line(query=[["a"]])], "line 3: 'query' must be a list"),
        ([HEADER, _line(kind="ftp")], "line 2: 'kind'"),
        ([HEADER, _line(at=-1)], "line 2: 'at' must be a number"),
        ([HEADER, json.dumps({k: v for k, v in GOOD.items() if k != "method"})], "'method'"),
    ],
)
def test_a_corrupt_or_foreign_trace_is_refused_naming_the_line(
    lines: list[str], message: str
) -> None:
    with pytest.raises(TraceError, match=r"t\.jsonl") as caught:
        parse_trace(lines, "t.jsonl")
    assert message in str(caught.value)


def test_load_trace_reads_a_file_and_orders_by_seq(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join([HEADER, _line(seq=2, path="/Groups"), _line(seq=1)]) + "\n")
    trace = load_trace(path)
    assert [x.path for x in trace.exchanges] == ["/Users", "/Groups"]
    assert trace.header["source"] == "proxy"
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(TraceError, match="not UTF-8"):
        load_trace(tmp_path / "bin")
    with pytest.raises(TraceError, match="cannot read"):
        load_trace(tmp_path / "missing.jsonl")


def test_the_writer_redacts_secrets_by_header_and_by_value_before_writing() -> None:
    stream = io.StringIO()
    writer = TraceWriter(stream, source="proxy", base="http://upstream")
    basic = base64.b64encode(b"client-7:basic-password-42").decode()
    writer.write(
        TraceExchange(
            1,
            0.0,
            "POST",
            "/oauth/token",
            200,
            request_headers={"content-type": "application/x-www-form-urlencoded"},
            request_body={"grant_type": "client_credentials", "client_secret": "cs-secret-9"},
            response_body={"access_token": "at-token-12345", "token_type": "Bearer"},
            kind="token",
        )
    )
    writer.write(
        TraceExchange(
            2,
            0.1,
            "GET",
            "/Users",
            200,
            query=[("filter", 'userName eq "x"'), ("access_token", "at-token-12345")],
            request_headers={"authorization": "Bearer at-token-12345", "cookie": "s=cookie-val"},
            response_body={"detail": "echo at-token-12345 and cs-secret-9"},
        )
    )
    writer.write(
        TraceExchange(
            3,
            0.2,
            "GET",
            "/Users",
            200,
            request_headers={"authorization": f"Basic {basic}"},
            response_body={"note": "basic-password-42 leaked"},
        )
    )
    text = stream.getvalue()
    for secret in ("cs-secret-9", "at-token-12345", "cookie-val", basic, "basic-password-42"):
        assert secret not in text
    trace = parse_trace(text.splitlines())
    assert trace.exchanges[1].request_headers["authorization"] == "Bearer [redacted]"
    assert trace.exchanges[2].request_headers["authorization"] == "Basic [redacted]"
    assert trace.exchanges[1].response_body == {"detail": "echo [redacted] and [redacted]"}
    assert [x.kind for x in trace.exchanges] == ["token", "scim", "scim"]
    assert [x.seq for x in trace.scim] == [2, 3]


def test_pseudonyms_are_consistent_and_leave_ids_and_group_names() -> None:
    p = Pseudonymiser()
    lookup = TraceExchange(
        1, 0, "GET", "/Users", 200, query=[("filter", 'userName eq "Ann.Lee@clinic.example"')]
    )
    create = TraceExchange(
        2,
        0,
        "POST",
        "/Users",
        201,
        request_body={
            "userName": "ann.lee@clinic.example",
            "name": {"givenName": "Ann", "familyName": "Lee"},
            "emails": [{"type": "work", "value": "ann.lee@clinic.example"}],
            "displayName": "Ann Lee",
            "externalId": "ext-1",
            "phoneNumbers": [{"type": "mobile", "value": "+1 206 555 0147"}],
        },
        response_body={"id": "u-1", "userName": "ann.lee@clinic.example"},
    )
    sso = TraceExchange(
        3, 0, "GET", "/Users", 200, query=[("filter", 'userName eq "ANN.LEE@CLINIC.EXAMPLE"')]
    )
    patch = TraceExchange(
        4,
        0,
        "PATCH",
        "/Users/u-1",
        200,
        request_body={"Operations": [{"op": "replace", "path": "name.familyName", "value": "Ng"}]},
    )
    group = TraceExchange(
        5,
        0,
        "POST",
        "/Groups",
        201,
        request_body={"displayName": "Nurses", "members": [{"value": "u-1", "display": "Ann Lee"}]},
    )
    for x in (lookup, create, sso, patch, group):
        p.apply(x)
    fake = create.request_body["userName"]
    assert fake.endswith("@pseudonym.example")
    assert lookup.query == [("filter", f'userName eq "{fake}"')]
    assert sso.query == [("filter", f'userName eq "{fake.upper()}"')]
    assert create.request_body["emails"][0]["value"] == fake
    assert create.response_body == {"id": "u-1", "userName": fake}
    text = json.dumps([x.as_line() for x in (lookup, create, sso, patch, group)])
    for personal in ("ann", "Ann", "Lee", "Ng"):
        assert f'"{personal}' not in text
        assert f" {personal}" not in text
    assert create.request_body["externalId"] == "ext-1"
    phone = create.request_body["phoneNumbers"][0]["value"]
    assert phone.startswith("+1 555 ")
    assert "206" not in phone
    assert patch.path == "/Users/u-1"
    assert group.request_body["displayName"] == "Nurses"
    assert group.request_body["members"][0]["value"] == "u-1"


async def test_the_proxy_forwards_unchanged_and_records_each_exchange(
    client: AsyncTestClient[Any], practice: PracticeFixture, tmp_path: Path
) -> None:
    path = tmp_path / "okta.jsonl"
    with path.open("w") as stream:
        writer = TraceWriter(stream, source="proxy", base=f"{BASE}{practice.scim_path}")
        proxy = RecordingProxy(f"{BASE}{practice.scim_path}", client, writer)
        host, port = await proxy.start("127.0.0.1", 0)
        try:
            scenario = find_scenario("onboard")
            secret = practice.client_secret
            async with httpx.AsyncClient() as idp:
                target = Target(
                    f"http://{host}:{port}",
                    idp,
                    Credentials("basic", client_id=practice.client_id, client_secret=secret),
                )
                result = await run_scenario(scenario, make_dialect("okta"), target, users=4)
            async with httpx.AsyncClient() as idp:
                gone = await idp.get(f"http://{host}:{port}/Users/nope", auth=("a", "b"))
        finally:
            await proxy.close()
    assert result.passed
    assert gone.status_code == 401
    trace = load_trace(path)
    seen = result.recorder.exchanges
    assert len(trace.exchanges) == len(seen) + 1
    for recorded, played in zip(trace.exchanges, seen, strict=False):
        assert (recorded.method, recorded.status) == (played.method, played.status)
        url = urlsplit(played.url)
        assert url.path == recorded.path
        assert parse_qsl(url.query, keep_blank_values=True) == recorded.query
        assert recorded.response_body == played.response_body
    assert trace.exchanges[-1].response_body["status"] == "401"
    text = path.read_text()
    assert practice.client_secret not in text
    assert base64.b64encode(f"{practice.client_id}:{secret}".encode()).decode() not in text
    assert "Basic [redacted]" in text


def test_record_refuses_a_bad_listen_address_or_upstream(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(main, ["record", "--listen", "nowhere", "--upstream", "http://x"])
    assert done.exit_code == 2
    assert "HOST:PORT" in done.output
    done = runner.invoke(main, ["record", "--listen", "127.0.0.1:0", "--upstream", "ftp://x"])
    assert done.exit_code == 2
    assert "http(s) URL" in done.output


def test_record_command_runs_for_a_bounded_time_and_writes_a_header(tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    args = ["record", "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9"]
    done = CliRunner().invoke(main, [*args, "--out", str(out), "--seconds", "0.2"])
    assert done.exit_code == 0, done.output
    assert "recording http://127.0.0.1:" in done.output
    assert "(0 exchanges)" in done.output
    assert load_trace(out).exchanges == []
