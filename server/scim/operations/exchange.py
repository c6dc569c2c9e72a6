"""What a SCIM operation takes and gives: ``ScimRequest`` and ``ScimAnswer``, without a web
framework, and the JSON reading and writing of their bodies (RFC 7644 §3.1, §3.8)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import msgspec

if TYPE_CHECKING:
    from collections.abc import Mapping
    from uuid import UUID

__all__ = [
    "SCIM_MEDIA_TYPE",
    "ScimAnswer",
    "ScimRequest",
    "ScimRequestError",
    "json_answer",
    "read_json_object",
    "request_from_scope",
]

SCIM_MEDIA_TYPE = "application/scim+json"
_MAX_DEPTH = 32


class ScimRequestError(Exception):
    """A request the edge refuses before any service runs (RFC 7644 §3.12)."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type


@dataclass(frozen=True, slots=True)
class ScimRequest:
    """One request to an operation. ``headers``: lower-case names, the first value of each;
    ``query``: the raw query string, ``params`` the first value of each of its parameters
    (``query_params``); ``path_params``: the URL's parameters besides the practice
    (``user_id``, ``group_id``)."""

    method: str
    path: str
    practice_id: UUID
    path_params: Mapping[str, str]
    headers: Mapping[str, str]
    query: str
    body: bytes
    params: Mapping[str, str]

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def query_params(self) -> Mapping[str, str]:
        return self.params


@dataclass(frozen=True, slots=True)
class ScimAnswer:
    """One answer: ``body`` is JSON (``application/scim+json``), or empty (204, 304)."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def request_from_scope(scope: Mapping[str, Any], body: bytes) -> ScimRequest:
    """The request of a routed ASGI ``scope`` (its ``path_params`` converted: the practice
    id a ``UUID``), with its body already read."""
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1").lower()
        if key not in headers:
            headers[key] = value.decode("latin-1")
    path_params = scope["path_params"]
    query = scope["query_string"].decode("latin-1")
    return ScimRequest(
        method=scope["method"],
        path=scope["path"],
        practice_id=path_params["practice_id"],
        path_params=path_params,
        headers=headers,
        query=query,
        body=body,
        params=query_params(query),
    )


def query_params(query: str) -> dict[str, str]:
    """The first value of each query parameter, read as Litestar reads a query."""
    params: dict[str, str] = {}
    if query:
        for name, value in parse_qsl(query, keep_blank_values=True):
            params.setdefault(name, value)
    return params


def _fallback(value: Any) -> Any:
    return str(value)  # pydantic's URL and reference types are strings on the wire


_encoder = msgspec.json.Encoder(enc_hook=_fallback)


def json_answer(
    payload: dict[str, Any] | None, *, status: int = 200, headers: tuple[tuple[str, str], ...] = ()
) -> ScimAnswer:
    body = b"" if payload is None else _encoder.encode(payload)
    return ScimAnswer(status, headers, body)


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


def read_json_object(request: ScimRequest) -> dict[str, Any]:
    """The body as a JSON object; ``application/scim+json`` and ``application/json`` accepted."""
    content_type = request.header("content-type") or ""
    if content_type and "json" not in content_type.lower():
        raise ScimRequestError(415, f"unsupported media type {content_type[:80]!r}")
    try:
        payload = json.loads(request.body)
    except (ValueError, RecursionError):
        raise ScimRequestError(400, "the body is not valid JSON", "invalidSyntax") from None
    if not isinstance(payload, dict):
        raise ScimRequestError(400, "the body must be a JSON object", "invalidSyntax")
    if _depth(payload, _MAX_DEPTH) > _MAX_DEPTH:
        raise ScimRequestError(400, "the body is nested too deeply", "invalidSyntax")
    return payload
