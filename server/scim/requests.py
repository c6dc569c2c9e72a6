"""Reading SCIM requests defensively: media type, JSON, preconditions, paging (RFC 7644 §3)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from server.scim.errors import ScimRequestError

if TYPE_CHECKING:
    from litestar import Request

__all__ = ["entity_versions", "page_window", "read_json_object"]

_MAX_DEPTH = 32
# Beyond any result set, and still a 64-bit OFFSET on every database.
MAX_START_INDEX = 2**31


def _depth(value: Any, limit: int) -> int:
    """Nesting depth, stopping early past ``limit`` (no recursion on hostile input)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(node, dict):
            stack.extend((child, level + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, level + 1) for child in node)
    return deepest


async def read_json_object(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The body as a JSON object; ``application/scim+json`` and ``application/json`` accepted."""
    content_type = request.headers.get("content-type", "")
    if content_type and "json" not in content_type.lower():
        raise ScimRequestError(415, f"unsupported media type {content_type[:80]!r}")
    raw = await request.body()
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):
        raise ScimRequestError(400, "the body is not valid JSON", "invalidSyntax") from None
    if not isinstance(payload, dict):
        raise ScimRequestError(400, "the body must be a JSON object", "invalidSyntax")
    if _depth(payload, _MAX_DEPTH) > _MAX_DEPTH:
        raise ScimRequestError(400, "the body is nested too deeply", "invalidSyntax")
    return payload


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
