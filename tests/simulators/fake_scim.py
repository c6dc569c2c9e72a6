"""A tiny in-memory SCIM service for respx: enough to let a sync engine run a cycle.

It understands ``eq`` filters on one attribute, POST, GET, PUT, PATCH (applies nothing but
``active`` and member values it can read) and DELETE, and counts every request it sees.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from collections.abc import Callable

BASE = "https://target.example/scim/v2"
_FILTER = re.compile(r'^(\w+) eq "(.*)"$')


def scim(status: int, body: Any = None, **headers: str) -> httpx.Response:
    content = json.dumps(body) if body is not None else b""
    return httpx.Response(
        status, content=content, headers={"Content-Type": "application/scim+json", **headers}
    )


class FakeScim:
    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.requests: list[httpx.Request] = []
        self.miss_status = 200
        self.empty_create = False
        self.intercept: Callable[[httpx.Request], httpx.Response | None] | None = None
        self.scripts: dict[tuple[str, str], list[httpx.Response]] = {}

    def script(self, method: str, path: str, *responses: httpx.Response) -> None:
        """Answer the next requests to ``method path`` (relative to the base) with these."""
        self.scripts[(method, path)] = list(responses)

    def _table(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.users if kind == "Users" else self.groups

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        relative = request.url.path.removeprefix("/scim/v2")
        queued = self.scripts.get((request.method, relative))
        if queued:
            return queued.pop(0) if len(queued) > 1 else queued[0]
        if self.intercept is not None and (answer := self.intercept(request)) is not None:
            return answer
        parts = request.url.path.removeprefix("/scim/v2/").split("/")
        kind, ident = parts[0], (parts[1] if len(parts) > 1 else None)
        table = self._table(kind)
        body = json.loads(request.content) if request.content else None
        if request.method == "GET" and ident is None:
            return self._search(table, request)
        if request.method == "POST" and self.empty_create:
            return httpx.Response(201)
        if request.method == "POST":
            new = {**body, "id": uuid.uuid4().hex}
            table[new["id"]] = new
            return scim(201, new)
        if ident not in table:
            return scim(
                404, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404"}
            )
        if request.method == "GET":
            return scim(200, table[ident])
        if request.method == "PUT":
            table[ident] = {**body, "id": ident}
            return scim(200, table[ident])
        if request.method == "DELETE":
            del table[ident]
            return scim(204)
        return self._patch(table[ident], body)

    def _search(self, table: dict[str, dict[str, Any]], request: httpx.Request) -> httpx.Response:
        found = list(table.values())
        text = request.url.params.get("filter")
        if text:
            match = _FILTER.match(text)
            assert match, text
            attribute, value = match.groups()
            found = [r for r in found if str(r.get(attribute, "")).lower() == value.lower()]
            if not found and self.miss_status != 200:
                return scim(self.miss_status, {"status": str(self.miss_status)})
        body = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": len(found),
            "startIndex": 1,
            "itemsPerPage": len(found),
            "Resources": found,
        }
        return scim(200, body)

    def _patch(self, resource: dict[str, Any], body: dict[str, Any]) -> httpx.Response:
        for op in body["Operations"]:
            value = op.get("value")
            if op.get("path") == "active":
                resource["active"] = value in (True, "True", "true")
            elif op.get("path") is None and isinstance(value, dict) and "active" in value:
                resource["active"] = value["active"]
            elif op.get("path") == "members" and op["op"].lower() == "add":
                resource.setdefault("members", []).extend(value)
        return scim(204)

    def sent(self, method: str | None = None, path: str | None = None) -> list[httpx.Request]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or path in r.url.path)
        ]
