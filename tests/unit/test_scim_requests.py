"""Defensive request reading (server/scim/requests.py, RFC 7644 §3.4.2.4 and §3.14)."""

from __future__ import annotations

from typing import Any

import pytest

from server.scim.operations.exchange import ScimRequestError, _depth
from server.scim.requests import MAX_START_INDEX, entity_versions, page_window

DEFAULT = 100
MAXIMUM = 1000
#: Largest OFFSET both backends accept: SQLite INTEGER and PostgreSQL bigint are 64-bit.
MAX_SQL_OFFSET = 2**63 - 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param("*", None, id="star"),
        pytest.param("  * ", None, id="star-padded"),
        pytest.param('W/"3"', {3}, id="weak"),
        pytest.param('"3"', {3}, id="strong"),
        pytest.param(' W/"42" ', {42}, id="weak-padded"),
        pytest.param('W/"3", W/"4"', {3, 4}, id="list"),
        pytest.param('W/"3", garbage', {3}, id="list-with-garbage"),
        pytest.param("garbage", set(), id="garbage"),
        pytest.param('W/"abc"', set(), id="weak-non-numeric"),
        pytest.param('W/"1_0"', set(), id="underscore-not-a-number"),
        pytest.param('" 3"', set(), id="padded-inside-quotes"),
        pytest.param('W/"\uff13"', set(), id="non-ascii-digit"),
        pytest.param('W/""', set(), id="weak-empty"),
        pytest.param("", set(), id="empty"),
        pytest.param('"9' + "9" * 5000 + '"', set(), id="absurdly-long"),
    ],
)
def test_entity_versions(header: str | None, expected: set[int] | None) -> None:
    """RFC 7232 §3.1: a list of entity tags; a tag this server never issued matches nothing."""
    assert entity_versions(header) == (None if expected is None else frozenset(expected))


@pytest.mark.parametrize(
    ("start_index", "count", "expected"),
    [
        pytest.param(None, None, (0, DEFAULT), id="defaults"),
        pytest.param("", "", (0, DEFAULT), id="blank-means-default"),
        pytest.param(0, None, (0, DEFAULT), id="start-0"),
        pytest.param(-5, None, (0, DEFAULT), id="start-negative"),
        pytest.param(1, None, (0, DEFAULT), id="start-1"),
        pytest.param(10, None, (9, DEFAULT), id="start-10"),
        pytest.param(str(2**63), None, (MAX_START_INDEX - 1, DEFAULT), id="start-largest-offset"),
        pytest.param("10", "7", (9, 7), id="query-strings"),
        pytest.param(None, 0, (0, 0), id="count-0"),
        pytest.param(None, -1, (0, 0), id="count-negative"),
        pytest.param(None, MAXIMUM, (0, MAXIMUM), id="count-maximum"),
        pytest.param(None, MAXIMUM + 1, (0, MAXIMUM), id="count-over-maximum"),
        pytest.param(None, "99999999999999999999", (0, MAXIMUM), id="count-huge"),
    ],
)
def test_page_window(start_index: Any, count: Any, expected: tuple[int, int]) -> None:
    assert page_window(start_index, count, default=DEFAULT, maximum=MAXIMUM) == expected


def test_page_window_default_never_exceeds_maximum() -> None:
    assert page_window(None, None, default=5000, maximum=MAXIMUM) == (0, MAXIMUM)


@pytest.mark.parametrize(
    ("start_index", "count", "name"),
    [
        pytest.param("abc", None, "startIndex", id="start-text"),
        pytest.param("1.5", None, "startIndex", id="start-decimal"),
        pytest.param([1], None, "startIndex", id="start-list"),
        pytest.param(None, "ten", "count", id="count-text"),
        pytest.param(None, "2e3", "count", id="count-exponent"),
        pytest.param(None, object(), "count", id="count-object"),
    ],
)
def test_page_window_non_integer_is_invalid_value(start_index: Any, count: Any, name: str) -> None:
    with pytest.raises(ScimRequestError) as caught:
        page_window(start_index, count, default=DEFAULT, maximum=MAXIMUM)

    assert caught.value.status == 400
    assert caught.value.scim_type == "invalidValue"
    assert name in caught.value.detail


def test_page_window_huge_start_index_stays_representable() -> None:
    """RFC 7644 §3.4.2.4: a startIndex past the results is an empty page, not an error.

    The offset must stay one the database can take: OFFSET is a signed 64-bit integer in
    both SQLite and PostgreSQL. Past it SQLite answers "datatype mismatch", which
    ``GET /Users?startIndex=99999999999999999999`` turns into a 500.
    """
    offset, limit = page_window("99999999999999999999", None, default=DEFAULT, maximum=MAXIMUM)

    assert 0 <= offset <= MAX_SQL_OFFSET
    assert limit == DEFAULT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(1, 1, id="scalar"),
        pytest.param("text", 1, id="string"),
        pytest.param({}, 1, id="empty-object"),
        pytest.param([], 1, id="empty-list"),
        pytest.param({"a": 1, "b": "x"}, 2, id="flat-object"),
        pytest.param([1, 2, 3], 2, id="flat-list"),
        pytest.param({"a": {"b": [1]}}, 4, id="nested"),
        pytest.param({"a": 1, "b": {"c": {"d": {}}}}, 4, id="deepest-branch-wins"),
        pytest.param([[], [[]], [[[]]]], 4, id="nested-lists"),
    ],
)
def test_depth(value: Any, expected: int) -> None:
    assert _depth(value, 32) == expected


def test_depth_at_limit_is_not_over() -> None:
    value: Any = 0
    for _ in range(31):
        value = [value]

    assert _depth(value, 32) == 32


@pytest.mark.parametrize("container", ["list", "dict"])
def test_depth_stops_early_on_hostile_nesting(container: str) -> None:
    value: Any = None
    for _ in range(100_000):
        value = [value] if container == "list" else {"k": value}

    assert _depth(value, 32) == 33
