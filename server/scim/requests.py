"""Reading SCIM request values defensively: entity tags and paging (RFC 7232, RFC 7644 §3)."""

from __future__ import annotations

import re
from typing import Any

from server.scim.operations.exchange import ScimRequestError

__all__ = ["MAX_START_INDEX", "entity_versions", "page_window"]

# Beyond any result set, and still a 64-bit OFFSET on every database.
MAX_START_INDEX = 2**31

_ENTITY_TAG = re.compile(r'^(?:W/)?"([0-9]{1,18})"$')


def entity_versions(header: str | None) -> frozenset[int] | None:
    """The versions an ``If-Match`` / ``If-None-Match`` list names (RFC 7232 §3.1-3.2).

    None means no condition (header absent or ``*``). A tag this server never issued names
    no version, so it can match nothing.
    """
    if header is None or header.strip() == "*":
        return None
    versions = set()
    for tag in header.split(","):
        match = _ENTITY_TAG.match(tag.strip())
        if match:
            versions.add(int(match.group(1)))
    return frozenset(versions)


def page_window(start_index: Any, count: Any, *, default: int, maximum: int) -> tuple[int, int]:
    """RFC 7644 §3.4.2.4: 1-based ``startIndex`` (values < 1 mean 1), ``count`` clamped to
    ``[0, maximum]``. Returns (offset, limit)."""
    start = _integer(start_index, "startIndex", 1)
    wanted = _integer(count, "count", default)
    return min(max(start, 1), MAX_START_INDEX) - 1, min(max(wanted, 0), maximum)


def _integer(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ScimRequestError(400, f"{name} must be an integer", "invalidValue") from None
