"""The access log writer: JSON lines shaped like the other log lines, written in batches by
one thread, silent when the ``scimlab.access`` logger is not enabled for INFO."""

from __future__ import annotations

import io
import json
import logging
import os
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from server.ops.access_log import ACCESS_LOGGER, AccessLog
from server.ops.context import accept_request_id
from server.ops.logs import JsonFormatter

if TYPE_CHECKING:
    from collections.abc import Iterator

import pytest

FIELDS = {
    "method": "GET",
    "path": "/scim/v2/p/Users/ü",
    "route": "/scim/v2/{practice_id}/Users/{user_id}",
    "status": 200,
    "duration_ms": 0.41,
    "practice": None,
    "client": "127.0.0.1",
}


@pytest.fixture
def access_level() -> Iterator[logging.Logger]:
    logger = logging.getLogger(ACCESS_LOGGER)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield logger
    logger.setLevel(previous)


def test_a_line_has_the_json_formatter_keys_in_order(access_level: logging.Logger) -> None:
    stream = io.StringIO()
    log = AccessLog(stream)
    log.write("rid-0001", **FIELDS)
    log.close()
    [line] = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert list(entry) == [
        "ts",
        "level",
        "logger",
        "message",
        "request_id",
        "pid",
        *FIELDS,
    ]
    assert entry["message"] == "GET /scim/v2/p/Users/ü 200"
    assert (entry["level"], entry["logger"], entry["request_id"]) == (
        "info",
        ACCESS_LOGGER,
        "rid-0001",
    )
    assert entry["pid"] == os.getpid()
    assert {k: entry[k] for k in FIELDS} == FIELDS
    assert entry["ts"].endswith("Z")
    assert len(entry["ts"]) == len("2026-01-01T00:00:00.000Z")


def test_nothing_is_written_above_info(access_level: logging.Logger) -> None:
    access_level.setLevel(logging.WARNING)
    stream = io.StringIO()
    log = AccessLog(stream)
    log.write("rid-0001", **FIELDS)
    log.close()
    assert stream.getvalue() == ""


def test_the_writer_thread_flushes_without_close(access_level: logging.Logger) -> None:
    stream = io.StringIO()
    log = AccessLog(stream, interval_s=0.01)
    for number in range(500):
        log.write(f"rid-{number:04d}", **FIELDS)
    deadline = time.monotonic() + 5
    while stream.getvalue().count("\n") < 500 and time.monotonic() < deadline:
        time.sleep(0.01)
    lines = stream.getvalue().splitlines()
    assert [json.loads(line)["request_id"] for line in lines] == [
        f"rid-{number:04d}" for number in range(500)
    ]
    assert log.writing
    log.close()
    assert not log.writing


def test_a_broken_stream_loses_lines_not_the_server(access_level: logging.Logger) -> None:
    stream = io.StringIO()
    stream.close()
    log = AccessLog(stream)
    log.write("rid-0001", **FIELDS)
    log.close()  # no exception


def test_new_request_ids_are_distinct_hex() -> None:
    ids = {accept_request_id(None) for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


@pytest.mark.parametrize(
    "instants_ns",
    [
        # within one second, then across seconds, minutes, a day and a year
        [1_764_780_000_000_000_000, 1_764_780_000_000_999_999, 1_764_780_000_999_999_999],
        [1_764_780_059_999_000_000, 1_764_780_060_000_000_000, 1_764_780_060_001_000_000],
        [1_767_225_599_999_999_999, 1_767_225_600_000_000_000],
        [1_764_780_001_500_000_000, 1_764_780_000_500_000_000],  # the clock stepped back
    ],
)
def test_timestamps_read_as_iso_8601_in_utc_with_milliseconds_and_z(
    instants_ns: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AccessLog(io.StringIO())
    for ns in instants_ns:
        monkeypatch.setattr(time, "time_ns", lambda ns=ns: ns)
        second, micro = divmod(ns // 1000, 1_000_000)
        moment = datetime.fromtimestamp(second, UTC).replace(microsecond=micro)
        written = moment.isoformat(timespec="milliseconds")
        assert log._timestamp() == written.removesuffix("+00:00") + "Z"


def test_every_json_log_line_dates_itself_in_utc_with_z() -> None:
    record = logging.makeLogRecord({"name": "scimlab.test", "msg": "hello", "created": 0.25})
    entry = json.loads(JsonFormatter().format(record))
    assert entry["ts"] == "1970-01-01T00:00:00.250Z"
