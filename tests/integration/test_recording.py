"""The server recording one practice's SCIM traffic (SCIMLAB_RECORD_PRACTICE): off by default,
only that practice, secrets redacted, bounded in time, and the trace replays."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.ops.recording import TrafficRecorder
from server.settings import Settings
from simulators.core.clock import VirtualClock
from simulators.core.replay import replay
from simulators.core.trace import load_trace
from tests.conftest import PUBLIC_URL, bearer_headers, new_practice
from tests.simulators.conftest import credentials_for

if TYPE_CHECKING:
    from pathlib import Path

    from litestar import Litestar

    from server.persistence.store import PiccoloStore
    from tests.conftest import PracticeFixture

USER = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "rec@example.org"}


def test_recording_is_off_by_default_and_its_settings_come_from_the_environment() -> None:
    assert Settings().record_practice == ""
    settings = Settings.from_env(
        {
            "SCIMLAB_RECORD_PRACTICE": " ABC ",
            "SCIMLAB_RECORD_SECONDS": "60",
            "SCIMLAB_RECORD_DIR": "/tmp/t",  # noqa: S108 - only parsed
            "SCIMLAB_RECORD_PSEUDONYMISE": "yes",
        }
    )
    assert (settings.record_practice, settings.record_seconds) == ("abc", 60.0)
    assert (settings.record_dir, settings.record_pseudonymise) == ("/tmp/t", True)  # noqa: S108


async def test_the_app_records_nothing_unless_asked(
    app: Litestar, client: Any, practice: PracticeFixture, tmp_path: Path
) -> None:
    """No practice named and no console window open: the recorder only passes requests on."""
    recorder = app.recorder
    assert isinstance(recorder, TrafficRecorder)
    assert recorder.on is False
    headers = await bearer_headers(client, practice)
    assert (await client.get(f"{practice.scim_path}/Users", headers=headers)).status_code == 200
    assert recorder.folder is not None
    assert _traces(recorder.folder, practice.id) == []


def _traces(folder: Path, practice: str) -> list[Path]:
    return sorted(folder.glob(f"trace-{practice}-*.jsonl"))


async def test_the_server_records_one_practice_and_the_trace_replays(
    client: AsyncTestClient[Any],
    practice: PracticeFixture,
    store: PiccoloStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    other = await new_practice(client, store, settings)
    recording = dataclasses.replace(
        settings, record_practice=practice.id, record_dir=str(tmp_path), record_seconds=600
    )
    front = create_app(recording)
    async with AsyncTestClient(app=front, base_url=PUBLIC_URL) as recorded:
        headers = await bearer_headers(recorded, practice)
        token = headers["Authorization"].split()[1]
        base = practice.scim_path
        created = await recorded.post(f"{base}/Users", json=USER, headers=headers)
        assert created.status_code == 201
        uid = created.json()["id"]
        await recorded.get(
            f"{base}/Users", params={"filter": f'userName eq "{USER["userName"]}"'}, headers=headers
        )
        patch = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        }
        await recorded.patch(f"{base}/Users/{uid}", json=patch, headers=headers)
        await recorded.post(f"{base}/Users", json=USER, headers=headers)  # 409
        await recorded.get(f"{base}/Users/{uid}", headers={"Authorization": "Bearer wrong-token"})
        elsewhere = await bearer_headers(recorded, other)
        await recorded.get(f"{other.scim_path}/Users", headers=elsewhere)
        assert isinstance(front.recorder, TrafficRecorder)
    [path] = _traces(tmp_path, practice.id)
    trace = load_trace(path)
    assert trace.header["source"] == "server"
    assert [(x.method, x.path, x.status) for x in trace.exchanges] == [
        ("POST", "/Users", 201),
        ("GET", "/Users", 200),
        ("PATCH", f"/Users/{uid}", 200),
        ("POST", "/Users", 409),
        ("GET", f"/Users/{uid}", 401),
    ]
    assert trace.exchanges[3].response_body["scimType"] == "uniqueness"
    text = path.read_text()
    for secret in (token, "wrong-token", practice.client_secret):
        assert secret not in text
    assert other.id not in text
    fresh = await new_practice(client, store, settings)
    result = await replay(
        trace,
        client,
        f"{PUBLIC_URL}{fresh.scim_path}",
        await credentials_for("oauth", client, fresh),
        VirtualClock(),
    )
    # the 401 was the recorded caller's wrong token; the replay signs in with its own
    assert [x.recorded.seq for x in result.differing] == [5]


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": b"{}"})


async def _call(recorder: TrafficRecorder, path: str) -> None:
    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        return None

    await recorder(scope, receive, send)


async def test_a_recording_stops_when_its_time_is_up(tmp_path: Path) -> None:
    now = [100.0]
    out = tmp_path / "t.jsonl"
    recorder = TrafficRecorder(
        _app, practice="p1", seconds=30, out=out, base="http://x/scim/v2/p1", clock=lambda: now[0]
    )
    await _call(recorder, "/scim/v2/p1/Users")
    await _call(recorder, "/scim/v2/p10/Users")  # another practice whose id starts the same
    now[0] = 129.0
    await _call(recorder, "/scim/v2/p1/Groups")
    now[0] = 130.0
    await _call(recorder, "/scim/v2/p1/Users/late")
    assert recorder.on is False
    assert [x.path for x in load_trace(out).exchanges] == ["/Users", "/Groups"]


@pytest.mark.parametrize("seconds", [0, -1, 86401])
def test_a_recording_without_a_bound_is_refused(seconds: float, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SCIMLAB_RECORD_SECONDS"):
        TrafficRecorder(_app, practice="p", seconds=seconds, out=tmp_path / "t", base="x")
