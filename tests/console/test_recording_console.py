"""Settings → SCIM Provisioning → Traffic recording: an administrator records the practice's
SCIM traffic for a bounded time, sees until when, stops it and downloads the trace; the
window lives in the database (every worker records it) and ends by itself at its end time."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.ops.recording import REFRESH_SECONDS, TrafficRecorder
from server.persistence.repositories.record_windows import window_store
from server.practices.recording import DURATIONS, RecordingService
from simulators.core.trace import load_trace, parse_trace
from tests.console.helpers import (
    SECURE_URL,
    USER_SCHEMA,
    new_console_practice,
    post_form,
    scim_headers,
    sign_in_admin,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from litestar import Litestar

    from server.services import Services
    from server.settings import Settings

SCIM = "/console/settings/scim"
RECORDING = f"{SCIM}/recording"


@pytest.fixture
async def web(
    console_settings: Settings, tmp_path: Path
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The console with its traces in a folder of this test's own."""
    settings = dataclasses.replace(console_settings, record_dir=str(tmp_path / "traces"))
    async with AsyncTestClient(app=create_app(settings), base_url=SECURE_URL) as client:
        client.follow_redirects = False
        yield client


def _state(html: str) -> str:
    found = re.search(r'<p id="recording-state">(.*?)</p>', html, re.S)
    assert found, "no recording state on the page"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


async def test_an_administrator_records_for_a_bounded_time_stops_and_downloads(
    web: AsyncTestClient[Any], services: Services
) -> None:
    practice = await new_console_practice(services)
    other = await new_console_practice(services)
    await sign_in_admin(web, practice)
    page = await web.get(SCIM)
    assert _state(page.text).startswith("Not recording")
    assert "recording-download" not in page.text

    forged = await web.post(f"{RECORDING}/start", data={"duration": "15m", "csrf_token": "x"})
    assert forged.status_code == 403
    refused = await post_form(web, SCIM, f"{RECORDING}/start", {"duration": "1w"})
    assert refused.headers["location"].endswith("notice=recording_refused#recording-h")
    assert _state((await web.get(SCIM)).text).startswith("Not recording")

    before = datetime.now(UTC)
    started = await post_form(web, SCIM, f"{RECORDING}/start", {"duration": "1h"})
    assert started.status_code == 303
    shown = (await web.get(SCIM)).text
    assert _state(shown).startswith("Recording until")
    until = re.search(r'<time datetime="([^"]+)"', shown)
    assert until is not None
    span = datetime.fromisoformat(until.group(1)) - before
    assert timedelta(minutes=59) < span <= timedelta(hours=1, seconds=5)

    headers = await scim_headers(web, practice)
    created = await web.post(
        f"/scim/v2/{practice.id}/Users",
        json={"schemas": [USER_SCHEMA], "userName": "rec@example.org"},
        headers=headers,
    )
    assert created.status_code == 201
    elsewhere = await scim_headers(web, other)
    await web.get(f"/scim/v2/{other.id}/Users", headers=elsewhere)  # another practice's

    stopped = await post_form(web, SCIM, f"{RECORDING}/stop", {})
    assert stopped.status_code == 303
    after = (await web.get(SCIM)).text
    assert _state(after).startswith("Not recording The last recording ended")
    assert 'id="recording-download"' in after

    download = await web.get(f"{RECORDING}/trace")
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["cache-control"] == "no-store"
    trace = parse_trace(download.text.splitlines())
    assert trace.header["source"] == "server"
    assert [(x.method, x.path, x.status) for x in trace.exchanges] == [("POST", "/Users", 201)]
    token = headers["Authorization"].split()[1]
    for secret in (token, practice.client_secret, other.id):
        assert secret not in download.text
    audit = (await web.get(SCIM)).text
    for action in ("scim.recording_started", "scim.recording_stopped", "scim.trace_downloaded"):
        assert action in audit, action

    # Another practice's administrator sees neither the window nor the trace.
    web.cookies.clear()
    await sign_in_admin(web, other)
    assert _state((await web.get(SCIM)).text) == "Not recording"
    theirs = await web.get(f"{RECORDING}/trace")
    assert theirs.headers["location"].endswith("notice=no_trace#recording-h")


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def _call(recorder: TrafficRecorder, path: str) -> None:
    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        return None

    await recorder(scope, receive, send)


async def test_a_window_is_shared_by_every_worker_and_ends_by_itself(
    services: Services, console_settings: Settings, tmp_path: Path
) -> None:
    """Two recorders (two worker processes) read one window from the database; at its end
    time both stop, with no one stopping it; the trace merges both workers' files."""
    practice = await new_console_practice(services)
    windows = window_store(console_settings.database_url)
    t0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    now = [t0]
    recording = RecordingService(windows, services.store.audit, tmp_path, clock=lambda: now[0])
    window = await recording.start(practice.uuid, "15m", actor="test")
    assert window.until == t0 + timedelta(minutes=15)

    def wall() -> float:
        return now[0].timestamp()

    def worker() -> TrafficRecorder:
        return TrafficRecorder(
            _app,
            windows=windows.all,
            folder=tmp_path,
            base_for=lambda p: f"https://x/scim/v2/{p}",
            wall=wall,
        )

    first, second = worker(), worker()
    base = f"/scim/v2/{practice.id}"
    now[0] = t0 + timedelta(minutes=1)
    await _call(first, f"{base}/Users")
    now[0] += timedelta(seconds=1)
    await _call(second, f"{base}/Groups")
    await _call(second, "/scim/v2/another/Users")  # no window for that practice
    now[0] = t0 + timedelta(minutes=15) - timedelta(seconds=REFRESH_SECONDS / 4)
    await _call(first, f"{base}/Users/last")
    now[0] = t0 + timedelta(minutes=15)
    assert (await recording.window(practice.uuid)) == window
    assert not window.on(now[0])
    for recorder in (first, second):
        await _call(recorder, f"{base}/Users/too-late")
    assert await recording.stop(practice.uuid, actor="test") is None  # already over: no-op
    for recorder in (first, second):
        recorder.close()

    files = recording.traces(practice.uuid, window)
    assert len(files) == 2  # one file per recorder
    assert sum(len(load_trace(f).exchanges) for f in files) == 3
    found = await recording.trace(practice.uuid, actor="test")
    assert found is not None
    name, text = found
    assert name == f"trace-{practice.id}-20261207T090000Z.jsonl"
    merged = parse_trace(text.splitlines())
    assert [(x.seq, x.path) for x in merged.exchanges] == [
        (1, "/Users"),
        (2, "/Groups"),
        (3, "/Users/last"),
    ]
    assert [round(x.at) for x in merged.exchanges] == [60, 61, 900]
    actions = [e.action for e in await services.store.audit.list(practice.uuid, limit=10)]
    assert actions.count("scim.recording_stopped") == 0
    assert {"scim.recording_started", "scim.trace_downloaded"} <= set(actions)


async def test_a_window_longer_than_a_day_is_not_recorded(
    services: Services, console_settings: Settings, tmp_path: Path
) -> None:
    practice = await new_console_practice(services)
    windows = window_store(console_settings.database_url)
    start = datetime.now(UTC)
    until = start + timedelta(days=2)
    forged = json.dumps({"started_at": start.isoformat(), "until": until.isoformat(), "by": "x"})
    await windows.put(practice.id, forged)
    recording = RecordingService(windows, services.store.audit, tmp_path)
    assert await recording.window(practice.uuid) is None


def test_the_page_offers_only_bounded_choices() -> None:
    assert max(length for _, length in DURATIONS.values()) <= timedelta(days=1)
