"""Replay: id rewriting, comparison with tolerance, pacing, reports, traces as scenarios, and
end to end: the simulators' runs recorded through the proxy in front of our server, replayed
against a fresh practice (both databases) and against scim2-server."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from click.testing import CliRunner

from server.cli import main
from simulators.core.auth import Credentials
from simulators.core.clock import VirtualClock
from simulators.core.proxy import RecordingProxy
from simulators.core.pseudonym import Pseudonymiser
from simulators.core.registry import find_scenario, make_dialect
from simulators.core.replay import IdMap, compare, replay
from simulators.core.runner import Target, run_scenario
from simulators.core.scenario import load_scenario
from simulators.core.trace import FORMAT, Trace, TraceExchange, TraceWriter, load_trace
from tests.conftest import new_practice
from tests.peers.scim2_server import scim2_server
from tests.simulators.conftest import BASE

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from litestar.testing import AsyncTestClient

    from server.persistence.store import PiccoloStore
    from server.settings import Settings
    from simulators.core.replay import ReplayResult
    from tests.conftest import PracticeFixture
    from tests.peers.peer import Peer

#: What each simulator plays while it is recorded, and how it signs in to our server (the
#: IdP's own client is a plain one on a real socket; OAuth is what the replays use).
RECORDED = {
    "entra": (("group-reshuffle", "rename"), "token"),
    "okta": (("O-05", "O-08"), "basic"),
    "google": (("G-01", "G-02"), "token"),
}


def _x(seq: int, method: str, path: str, status: int, body: Any = None, **more: Any) -> Any:
    return TraceExchange(seq, float(seq), method, path, status, response_body=body, **more)


def test_ids_the_target_assigns_replace_the_recorded_ones_everywhere() -> None:
    ids = IdMap()
    ids.learn(
        {"id": "old-1", "meta": {"version": 'W/"a"'}}, {"id": "new-1", "meta": {"version": 'W/"b"'}}
    )
    ids.learn({"Resources": [{"id": "old-2"}]}, {"Resources": [{"id": "new-2"}]})
    assert ids.text("old-1") == "new-1"
    assert ids.text('members[value eq "old-2"]') == 'members[value eq "new-2"]'
    assert ids.text("http://h/scim/v2/p/Users/old-1") == "http://h/scim/v2/p/Users/new-1"
    assert ids.text("old-10") == "old-10"  # whole tokens only
    assert ids.text('W/"a"') == 'W/"b"'
    body = {"members": [{"value": "old-2", "$ref": "../Users/old-2"}], "n": 3}
    assert ids.value(body) == {"members": [{"value": "new-2", "$ref": "../Users/new-2"}], "n": 3}


@pytest.mark.parametrize(
    ("recorded", "status", "body", "tolerate", "wanted"),
    [
        (
            _x(1, "GET", "/Users/a", 200, {"id": "a", "active": True}),
            200,
            {"id": "z", "active": True, "x": 1},
            {"id"},
            [],
        ),
        (_x(1, "GET", "/Users/a", 200, {"id": "a"}), 200, {"id": "z"}, set(), ["body.id"]),
        (
            _x(1, "GET", "/Users/a", 200, {"active": True}),
            200,
            {"active": "true"},
            set(),
            ["body.active"],
        ),
        (
            _x(1, "GET", "/Users/a", 200, {"name": {"givenName": "A"}}),
            200,
            {"name": {}},
            set(),
            ["body.name.givenName"],
        ),
        (
            _x(1, "GET", "/Users/a", 200, {"meta": {"version": "1"}}),
            200,
            {"meta": {}},
            {"meta"},
            [],
        ),
        (
            _x(1, "GET", "/Users/a", 200, {"name": {"formatted": "A"}}),
            200,
            {"name": {}},
            {"name.formatted"},
            [],
        ),
        (
            _x(1, "GET", "/Groups/g", 200, {"members": [{"value": "1"}, {"value": "2"}]}),
            200,
            {"members": [{"value": "2"}, {"value": "1"}]},
            set(),
            [],
        ),
        (
            _x(1, "GET", "/Groups/g", 200, {"members": [{"value": "1"}]}),
            200,
            {"members": []},
            set(),
            ["body.members"],
        ),
        (
            _x(1, "POST", "/Users", 409, {"scimType": "uniqueness", "detail": "x"}),
            409,
            {"scimType": "uniqueness", "detail": "other"},
            set(),
            [],
        ),
        (
            _x(1, "POST", "/Users", 409, {"scimType": "uniqueness"}),
            400,
            {"scimType": "invalidValue"},
            set(),
            ["status", "scimType"],
        ),
        (
            _x(1, "PATCH", "/Users/a", 200, {"userName": "a"}, response_headers={"etag": "1"}),
            200,
            {"userName": "a"},
            set(),
            ["ETag header"],
        ),
    ],
)
def test_answers_are_compared_on_what_was_recorded_with_tolerance(
    recorded: TraceExchange, status: int, body: Any, tolerate: set[str], wanted: list[str]
) -> None:
    found = compare(recorded, status, body, {}, IdMap(), tolerate=frozenset(tolerate))
    assert [d.where for d in found] == wanted


class _Echo:
    """A SCIM server of one trick, for replay's own unit tests: creates get a fresh id."""

    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if request.method == "POST":
            return httpx.Response(
                201, json={"id": f"new-{len(self.seen)}", **json.loads(request.content)}
            )
        return httpx.Response(200, json={"id": request.url.path.rsplit("/", 1)[-1]})


async def test_recorded_pace_waits_between_requests_and_fast_does_not() -> None:
    trace = Trace(
        {"format": FORMAT, "version": 1},
        [
            TraceExchange(
                1,
                10.0,
                "POST",
                "/Users",
                201,
                request_body={"userName": "a"},
                response_body={"id": "r1", "userName": "a"},
            ),
            TraceExchange(2, 10.5, "POST", "/oauth/token", 200, kind="token"),
            TraceExchange(3, 13.0, "GET", "/Users/r1", 200, response_body={"id": "r1"}),
        ],
    )
    for pace, waited in (("recorded", 3.0), ("fast", 0.0)):
        echo, clock = _Echo(), VirtualClock()
        async with httpx.AsyncClient(transport=httpx.MockTransport(echo)) as client:
            result = await replay(
                trace,
                client,
                "http://peer/scim",
                Credentials("token", token="t0k3n"),
                clock,
                pace=pace,
            )  # type: ignore[arg-type]
        assert clock.now() == pytest.approx(waited)
        assert [r.url.path for r in echo.seen] == ["/scim/Users", "/scim/Users/new-1"]
        assert echo.seen[1].headers["authorization"] == "Bearer t0k3n"
        assert result.passed, [str(d) for x in result.exchanges for d in x.differences]


# end to end ---------------------------------------------------------------------------------
async def _record(
    idp: str,
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    path: Path,
    *,
    pseudonymise: bool = False,
) -> Path:
    """Play ``idp``'s scenarios through the proxy in front of ``practice``; the trace file."""
    names, auth = RECORDED[idp]
    upstream = f"{BASE}{practice.scim_path}"
    with path.open("w") as stream:
        proxy = RecordingProxy(
            upstream,
            client,
            TraceWriter(
                stream,
                source="proxy",
                base=upstream,
                pseudonymiser=Pseudonymiser() if pseudonymise else None,
            ),
        )
        host, port = await proxy.start("127.0.0.1", 0)
        try:
            async with httpx.AsyncClient() as idp_client:
                credentials = await _credentials(auth, client, practice)
                target = Target(f"http://{host}:{port}", idp_client, credentials)
                for name in names:
                    scenario = find_scenario(name)
                    result = await run_scenario(
                        scenario,
                        make_dialect(idp, scenario.variants),
                        target,
                        users=3,
                        domain=f"{name.lower()}.example.org",
                    )
                    assert result.passed, [r.detail for r in result.results if r.status == "failed"]
        finally:
            await proxy.close()
    return path


async def _credentials(
    kind: str, client: AsyncTestClient[Any], practice: PracticeFixture
) -> Credentials:
    from tests.simulators.conftest import credentials_for  # noqa: PLC0415

    return await credentials_for(kind, client, practice)


def _differences(result: ReplayResult) -> list[str]:
    return [f"{x.name}: {d}" for x in result.differing for d in x.differences]


@pytest.mark.parametrize("idp", sorted(RECORDED))
async def test_a_recorded_run_replays_equal_on_a_fresh_practice_of_ours(
    idp: str,
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    store: PiccoloStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    path = await _record(idp, client, practice, tmp_path / f"{idp}.jsonl")
    trace = load_trace(path)
    assert len(trace.scim) >= 10
    text = path.read_text()
    assert practice.client_secret not in text
    assert (
        base64.b64encode(f"{practice.client_id}:{practice.client_secret}".encode()).decode()
        not in text
    )
    fresh = await new_practice(client, store, settings)
    credentials = await _credentials("oauth", client, fresh)
    result = await replay(trace, client, f"{BASE}{fresh.scim_path}", credentials, VirtualClock())
    assert len(result.exchanges) == len(trace.scim)
    assert result.passed, _differences(result)
    creates = [x for x in result.exchanges if x.method == "POST" and x.status == 201]
    assert creates
    assert all(x.response_body["id"] != x.recorded.response_body["id"] for x in creates)


@pytest.fixture(scope="module")
def scim2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    with scim2_server(tmp_path_factory.mktemp("scim2") / "server.log") as peer:
        yield peer


#: Where scim2-server answers otherwise than our server did, per recorded run
#: ("METHOD resource where" -> why; docs/compatibility.md has the same findings).
KNOWN_ON_SCIM2: dict[str, dict[str, str]] = {
    "entra": {
        "POST Groups status": "400: scim2-server refuses the schema URN Entra sends on groups "
        "(http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group)",
        "POST Groups scimType": "invalidSyntax, with that 400",
        "PATCH Groups status": "404: the groups were never created",
        "PATCH Groups scimType": "invalidValue: a PATCH adding members to the missing group",
        "GET Groups status": "404: the groups were never created",
        "GET Users body.groups": "no group, so no user's read-only groups attribute",
    },
    "okta": {
        "GET Groups body.members[0]": "scim2-server leaves out members' $ref, which RFC 7643 "
        "§4.2 makes optional",
    },
    "google": {},
}


@pytest.mark.socket
@pytest.mark.parametrize("idp", sorted(RECORDED))
async def test_a_recorded_run_replays_on_scim2_server_with_exactly_the_known_differences(
    idp: str,
    scim2: Peer,
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    tmp_path: Path,
) -> None:
    path = await _record(idp, client, practice, tmp_path / f"{idp}.jsonl")
    async with httpx.AsyncClient() as peer_client:
        result = await replay(
            load_trace(path),
            peer_client,
            scim2.tenant(),
            Credentials("token", token=scim2.token),
            VirtualClock(),
        )
    found = {
        f"{x.method} {x.path.split('/')[1]} {d.where}"
        for x in result.differing
        for d in x.differences
    }
    print(f"\n{idp}: " + "\n".join(_differences(result)))
    assert found == set(KNOWN_ON_SCIM2[idp])


@pytest.mark.socket
def test_replay_cli_writes_json_junit_and_html_with_a_side_by_side_diff(
    scim2: Peer, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    lookup = {
        "seq": 1,
        "method": "GET",
        "path": "/Users",
        "query": [["filter", 'userName eq "nobody@x.org"']],
        "request": {},
        "response": {"status": 200, "body": {"totalResults": 0}},
    }
    ghost = {
        "seq": 2,
        "method": "GET",
        "path": "/Users/abc",
        "request": {},
        "response": {"status": 200, "body": {"userName": "ghost"}},
    }
    lines = [{"format": FORMAT, "version": 1}, lookup, ghost]
    path.write_text("\n".join(json.dumps(line) for line in lines))
    args = ["simulate", "replay", str(path), "--scim-url", scim2.tenant(), "--token", scim2.token]
    done = CliRunner().invoke(main, [*args, "--report", str(tmp_path / "r")])
    assert done.exit_code == 1, done.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["exchanges"], report["differing"]) == (2, 1)
    [differs] = [r for r in report["replays"] if not r["agrees"]]
    assert differs["differences"][0] == {"where": "status", "recorded": 200, "replayed": 404}
    suite = ET.parse(tmp_path / "r.xml").getroot()[0]  # noqa: S314 - our own report
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    html = (tmp_path / "r.html").read_text()
    assert "class=side" in html
    assert "ghost" in html
    assert scim2.token not in done.output + html


def test_replay_cli_names_the_bad_line_of_a_corrupt_trace(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"format": FORMAT, "version": 1}) + "\n{oops\n")
    done = CliRunner().invoke(
        main, ["simulate", "replay", str(path), "--scim-url", "http://x", "--token", "t"]
    )
    assert done.exit_code == 1
    assert "bad.jsonl line 2: not JSON" in done.output


async def test_a_trace_becomes_a_scenario_that_replays_on_a_fresh_practice(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    store: PiccoloStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    path = await _record("entra", client, practice, tmp_path / "entra.jsonl")
    done = CliRunner().invoke(
        main, ["simulate", "replay", str(path), "--to-scenario", str(tmp_path / "kept.toml")]
    )
    assert done.exit_code == 0, done.output
    text = (tmp_path / "kept.toml").read_text()
    assert 'save_id = "user1"' in text
    assert "{ref:user1}" in text
    scenario = load_scenario(tmp_path / "kept.toml")
    trace = load_trace(path)
    assert len(scenario.steps) == len(trace.scim)
    fresh = await new_practice(client, store, settings)
    target = Target(f"{BASE}{fresh.scim_path}", client, await _credentials("token", client, fresh))
    result = await run_scenario(scenario, make_dialect("entra"), target)
    assert result.error is None
    assert result.passed, [r.detail for r in result.results if r.status == "failed"]
    assert result.count("passed") >= len(trace.scim)


async def test_a_pseudonymised_recording_keeps_no_name_and_still_replays(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    store: PiccoloStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    path = await _record("okta", client, practice, tmp_path / "p.jsonl", pseudonymise=True)
    text = path.read_text()
    assert "@pseudonym.example" in text
    for real in ("northside-health", "ferreira", "Ferreira", "o-05.example.org"):
        assert real not in text
    trace = load_trace(path)
    assert trace.header["pseudonymised"] is True
    fresh = await new_practice(client, store, settings)
    credentials = await _credentials("basic", client, fresh)
    result = await replay(trace, client, f"{BASE}{fresh.scim_path}", credentials, VirtualClock())
    assert result.passed, _differences(result)
