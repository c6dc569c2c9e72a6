"""The activity log's writer: a bounded queue of :class:`Seen` tuples filled by the observer,
emptied in batches by one background task, so a SCIM request never waits on a write of its
own and does no describing of its own.

Per batch (at most ``batch`` exchanges, every ``interval`` seconds or sooner when that many
are queued): each exchange is described (operation, route, attribute names from a write's
body, an error's fields); then one statement each for the whole batch: which practices exist
with their client ids and which token each bearer hash is (a request to an unknown practice
is not recorded), the names of the groups the batch touched and of the accounts it deleted (a
deleted group's name comes from the log itself; other accounts are named when the log is
read), who holds a userName a refused create collided with; then one multi-row INSERT.

Bounds: when the queue holds ``capacity`` exchanges, new ones are dropped and counted
(``dropped``) rather than memory growing; request bodies held for the batch are bounded too
(``body_budget`` bytes: past it an exchange is kept without its body, so without attribute
names). ``stop`` lets a batch under way finish, then writes everything still queued, so a
clean shutdown loses nothing that was queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections import deque
from typing import TYPE_CHECKING, Any
from uuid import UUID

from server.activity.describe import attribute_names, explain, operation_of, plain_route
from server.domain.acting import ActingCredential
from server.domain.text import text_key

if TYPE_CHECKING:
    from server.activity.observe import Seen
    from server.persistence.repositories.activity import ActivityRow, PiccoloActivityLog

__all__ = ["ActivityRecorder"]

logger = logging.getLogger("scimlab.activity")


def _json(raw: bytes | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _new_id() -> str:
    """A random (version 4) UUID as text, without building a ``UUID`` object per entry."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _uuid(text: str | None) -> UUID | None:
    try:
        return UUID(text) if text else None
    except ValueError:
        return None


class _Draft:
    """An entry under construction: what the exchange said, before the batch's lookups."""

    __slots__ = (
        "attributes", "detail", "kind", "operation", "practice", "request", "resource_id",
        "resource_name", "route", "scim_type", "seen",
    )  # fmt: skip

    def __init__(self, seen: Seen, practice: UUID, route: str, operation: str) -> None:
        self.seen, self.practice, self.route, self.operation = seen, practice, route, operation
        self.kind = {"user": "User", "group": "Group"}.get(operation.split(".", 1)[0])
        self.request: dict[str, Any] = {}
        if seen.request_body:
            request = _json(seen.request_body)
            self.request = request if isinstance(request, dict) else {}
        self.attributes = attribute_names(seen.method, operation, self.request)
        self.scim_type: str | None = None
        self.detail: str | None = None
        error = seen.status >= 400
        if error:
            response = _json(seen.error_body)
            response = response if isinstance(response, dict) else {}
            self.scim_type = str(response["scimType"]) if response.get("scimType") else None
            self.detail = str(response.get("detail") or "")[:1000] or None
        self.resource_id: str | None = None
        self.resource_name: str | None = None
        if self.kind is not None and not operation.endswith(".search"):
            segments = seen.path.split("/")
            from_path = segments[5] if len(segments) > 5 else None
            from_location = (seen.location or "").rsplit("/", 1)[-1] or None
            self.resource_id = str(from_path or from_location or "")[:64] or None


class ActivityRecorder:
    def __init__(
        self,
        log: PiccoloActivityLog,
        *,
        interval: float = 0.5,
        batch: int = 500,
        capacity: int = 20_000,
        body_budget: int = 64 * 1024 * 1024,
    ) -> None:
        self._log = log
        self._interval, self._batch, self._capacity = interval, batch, capacity
        self._queue: deque[Seen] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._flushing = asyncio.Lock()
        self._body_budget, self._body_bytes = body_budget, 0
        # route template -> (plain route, {method: operation}); templates are few and fixed
        self._routes: dict[str | None, tuple[str | None, dict[str, str]]] = {}
        self.dropped = 0

    @property
    def queued(self) -> int:
        """How many exchanges wait for their batch."""
        return len(self._queue)

    def add(self, seen: Seen) -> None:
        """Queue an exchange (called by the observer; never waits)."""
        if len(self._queue) >= self._capacity:
            self.dropped += 1
            return
        body = seen.request_body
        if body:
            if self._body_bytes + len(body) > self._body_budget:
                seen = seen._replace(request_body=None)
            else:
                self._body_bytes += len(body)
        self._queue.append(seen)
        if len(self._queue) >= self._batch:
            self._wake.set()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Let a batch under way finish (never cancelled halfway), then write the rest."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while self._queue:  # with what requests still in flight queue meanwhile
            await self.flush()

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> int:
        """Write everything queued now (after any write under way); how many were written.
        What is queued while it writes waits for the next batch: under steady traffic a
        flush that went on until the queue was empty never ended, and wrote the requests
        that came in during each write as a batch of a few, each costing its statements."""
        async with self._flushing:
            return await self._flush(len(self._queue))

    async def _flush(self, queued: int) -> int:
        written = 0
        while queued > 0:
            size = min(self._batch, queued)
            queued -= size
            taken = [self._queue.popleft() for _ in range(size)]
            self._body_bytes -= sum(len(t.request_body or b"") for t in taken)
            try:
                rows = await self._rows(taken)
                await self._log.add_rows(rows)
            except Exception:
                logger.exception("activity log: %d entries could not be written", len(taken))
                continue
            written += len(rows)
        return written

    def _route(self, seen: Seen) -> tuple[str, str]:
        """(route template without parameter types, operation code), remembered per template."""
        known = self._routes.get(seen.route)
        if known is None:
            known = (plain_route(seen.route) if seen.route else None, {})
            if len(self._routes) < 1000:  # templates are the app's own; bounded all the same
                self._routes[seen.route] = known
        route, operations = known
        operation = operations.get(seen.method)
        if operation is None:
            operation = operations[seen.method] = operation_of(seen.method, route or "")
        if route is None:
            return "(no route) " + seen.path.split("/", 4)[-1][:150], operation
        return route, operation

    def _draft(self, seen: Seen, practices: dict[str, UUID | None]) -> _Draft | None:
        name = seen.path.split("/", 4)[3] if seen.path.count("/") >= 3 else ""
        if name not in practices:
            practices[name] = _uuid(name)
        practice = practices[name]
        if practice is None:
            return None
        return _Draft(seen, practice, *self._route(seen))

    async def _rows(self, taken: list[Seen]) -> list[ActivityRow]:
        named: dict[str, UUID | None] = {}
        drafts = [d for seen in taken if (d := self._draft(seen, named)) is not None]
        if not drafts:
            return []
        hashes = {d.seen.bearer_hash for d in drafts if d.seen.bearer_hash}
        client_ids, tokens = await self._log.practices({d.practice for d in drafts}, hashes)
        drafts = [d for d in drafts if d.practice in client_ids]
        if not drafts:
            return []
        await self._resolve_names(drafts)
        return [await self._row(d, tokens, client_ids) for d in drafts]

    async def _resolve_names(self, drafts: list[_Draft]) -> None:
        parsed: dict[str, UUID | None] = {}  # each id's text parsed once per batch
        wanted: dict[tuple[UUID, str], set[UUID]] = {}
        for draft in drafts:
            text = draft.resource_id
            if text is None or draft.kind is None or draft.seen.status >= 400:
                continue
            if draft.kind == "User" and draft.operation != "user.delete":
                continue  # named when the log is read (PiccoloActivityLog.list)
            if text not in parsed:
                parsed[text] = _uuid(text)
            if (found := parsed[text]) is not None:
                wanted.setdefault((draft.practice, draft.kind), set()).add(found)
        for (practice, kind), ids in wanted.items():
            if kind == "User":
                names = await self._log.staff_names(practice, ids)
            else:
                names = await self._log.group_names(practice, ids)
            if ids - names.keys():
                names |= await self._log.known_names(practice, ids - names.keys())
            for draft in drafts:
                if draft.practice == practice and draft.kind == kind and draft.resource_id:
                    found = parsed.get(draft.resource_id)
                    draft.resource_name = names.get(found) if found is not None else None

    async def _row(
        self,
        draft: _Draft,
        tokens: dict[str, tuple[UUID, str, str]],
        client_ids: dict[UUID, str | None],
    ) -> ActivityRow:
        seen = draft.seen
        credential, label = "none", "No credential"
        client = client_ids.get(draft.practice)
        named: ActingCredential | None = None
        if seen.bearer_hash is not None:
            token = tokens.get(seen.bearer_hash)
            credential, label = "bearer", "Unrecognised bearer token"
            if token is not None and token[0] == draft.practice and token[1] == "static":
                named = ActingCredential("static", token[2])
            elif token is not None and token[0] == draft.practice:
                named = ActingCredential("oauth", client or "")
        elif seen.basic_client is not None:
            credential, label = "basic", "Basic, unknown client"
            if client and seen.basic_client == client:
                named = ActingCredential("basic", client)
        if named is not None:
            credential, label = named.kind, named.label
        holder = None
        if seen.status == 409 and draft.kind == "User" and draft.detail:
            holder = await self._holder(draft)
        name = draft.resource_name
        return (
            _new_id(),
            draft.practice,
            seen.at,
            seen.request_id[:64],
            seen.method[:8],
            draft.route[:200],
            draft.operation,
            seen.status,
            credential,
            label,
            seen.user_agent[:256],
            draft.scim_type,
            draft.detail,
            explain(seen.status, draft.scim_type, draft.detail, holder=holder),
            draft.kind if draft.resource_id else None,
            draft.resource_id,
            str(name)[:256] if name else None,
            ",".join(draft.attributes),
        )

    async def _holder(self, draft: _Draft) -> str | None:
        """Who already has the userName or email a refused write sent (looked up while the
        request body is in memory; only the holder's name is kept)."""
        column = "userName" if draft.detail and draft.detail.lower().startswith("user") else "email"
        value: Any = None
        for key, item in draft.request.items():
            if column == "userName" and key.lower().endswith("username"):
                value = item
            elif column == "email" and key.lower().endswith("emails") and isinstance(item, list):
                first = item[0] if item and isinstance(item[0], dict) else {}
                value = first.get("value")
        if not isinstance(value, str) or not value:
            return None
        return await self._log.holder(draft.practice, column, value, text_key(value))
