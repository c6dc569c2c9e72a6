"""The activity log's writer: a bounded queue filled by the observer, emptied in batches by
one background task, so a SCIM request never waits on a write of its own.

Per batch (at most ``batch`` exchanges, every ``interval`` seconds or sooner when that many
are queued): bodies are read for attribute names, ids and error fields; then a handful of
statements for the whole batch: which practices exist (a request to an unknown practice is
not recorded), which token each bearer hash is, each practice's client id, the names of
accounts the responses did not name (a DELETE answers 204; deleted accounts are kept, so
their names still resolve), who holds a userName a refused create collided with; then one
INSERT. When the queue is full, new exchanges are dropped and counted (``dropped``) rather
than memory growing; bodies held for the batch are bounded too (``body_budget`` bytes: past
it an exchange is kept without them, so without attribute names). ``stop`` writes what is
queued (shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from server.activity.describe import attribute_names, explain, operation_of, plain_route
from server.activity.records import ActivityEntry
from server.domain.acting import ActingCredential
from server.domain.text import text_key

if TYPE_CHECKING:
    from server.activity.observe import Seen
    from server.persistence.repositories.activity import PiccoloActivityLog

__all__ = ["ActivityRecorder"]

logger = logging.getLogger("scimlab.activity")


def _json(raw: bytes | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _uuid(text: str | None) -> UUID | None:
    try:
        return UUID(text) if text else None
    except ValueError:
        return None


def _name_of(resource: dict[str, Any], kind: str) -> str | None:
    if kind == "Group":
        name = resource.get("displayName")
        return str(name) if name else None
    found = resource.get("name")
    parts: dict[str, Any] = found if isinstance(found, dict) else {}
    full = " ".join(str(parts[k]) for k in ("givenName", "familyName") if parts.get(k))
    return full or resource.get("displayName") or resource.get("userName") or None


class _Draft:
    """An entry under construction: what the bodies said, before the batch's lookups."""

    def __init__(self, seen: Seen, practice: UUID) -> None:
        self.seen, self.practice = seen, practice
        route = plain_route(seen.route) if seen.route else None
        self.route = route or "(no route) " + seen.path.split("/", 4)[-1][:150]
        self.operation = operation_of(seen.method, route or "")
        kind = self.operation.split(".")[0]
        self.kind = {"user": "User", "group": "Group"}.get(kind)
        request, response = _json(seen.request_body), _json(seen.response_body)
        self.request = request if isinstance(request, dict) else {}
        response = response if isinstance(response, dict) else {}
        seen.request_body = seen.response_body = None  # read once; never kept
        self.attributes = attribute_names(seen.method, self.operation, self.request)
        error = seen.status >= 400
        self.scim_type = str(response["scimType"]) if error and response.get("scimType") else None
        self.detail = str(response.get("detail") or "")[:1000] or None if error else None
        self.resource_id: str | None = None
        self.resource_name: str | None = None
        if self.kind is not None and not self.operation.endswith(".search"):
            segments = seen.path.split("/")
            from_path = segments[5] if len(segments) > 5 else None
            from_location = (seen.location or "").rsplit("/", 1)[-1] or None
            found = response.get("id") if not error else None
            self.resource_id = str(found or from_path or from_location or "")[:64] or None
            if not error and response:
                self.resource_name = _name_of(response, self.kind)


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
        self._flushing = asyncio.Lock()
        self._body_budget, self._body_bytes = body_budget, 0
        self.dropped = 0

    def add(self, seen: Seen) -> None:
        """Queue an exchange (called by the observer; never waits)."""
        if len(self._queue) >= self._capacity:
            self.dropped += 1
            return
        size = len(seen.request_body or b"") + len(seen.response_body or b"")
        if self._body_bytes + size > self._body_budget:
            seen.request_body = seen.response_body = None
        else:
            self._body_bytes += size
        self._queue.append(seen)
        if len(self._queue) >= self._batch:
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> int:
        """Write everything queued now (after any write under way); how many were written."""
        async with self._flushing:
            return await self._flush()

    async def _flush(self) -> int:
        written = 0
        while self._queue:
            taken = [self._queue.popleft() for _ in range(min(self._batch, len(self._queue)))]
            self._body_bytes -= sum(
                len(t.request_body or b"") + len(t.response_body or b"") for t in taken
            )
            try:
                entries = await self._entries(taken)
                await self._log.add_many(entries)
            except Exception:
                logger.exception("activity log: %d entries could not be written", len(taken))
                continue
            written += len(entries)
        return written

    async def _entries(self, taken: list[Seen]) -> list[ActivityEntry]:
        drafts = [
            _Draft(seen, practice)
            for seen in taken
            if (practice := _uuid(seen.path.split("/")[3])) is not None
        ]
        practices = await self._log.existing_practices({d.practice for d in drafts})
        drafts = [d for d in drafts if d.practice in practices]
        if not drafts:
            return []
        hashes = {d.seen.bearer_hash for d in drafts if d.seen.bearer_hash}
        tokens = await self._log.tokens(hashes) if hashes else {}
        client_ids = await self._log.client_ids(practices)
        await self._resolve_names(drafts)
        return [await self._entry(d, tokens, client_ids) for d in drafts]

    async def _resolve_names(self, drafts: list[_Draft]) -> None:
        wanted: dict[UUID, set[UUID]] = {}
        for draft in drafts:
            found = _uuid(draft.resource_id) if draft.kind and draft.seen.status < 400 else None
            if found is not None and draft.resource_name is None:
                wanted.setdefault(draft.practice, set()).add(found)
        for practice, ids in wanted.items():
            names = await self._log.staff_names(practice, ids)
            names |= await self._log.known_names(practice, ids - names.keys())
            for draft in drafts:
                found = _uuid(draft.resource_id) if draft.practice == practice else None
                if found in names and draft.resource_name is None:
                    draft.resource_name = names[found]

    async def _entry(
        self,
        draft: _Draft,
        tokens: dict[str, tuple[UUID, str, str]],
        client_ids: dict[UUID, str],
    ) -> ActivityEntry:
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
        return ActivityEntry(
            id=uuid4(),
            practice_id=draft.practice,
            at=seen.at,
            request_id=seen.request_id[:64],
            method=seen.method[:8],
            route=draft.route[:200],
            operation=draft.operation,
            status=seen.status,
            credential=credential,
            credential_label=label,
            user_agent=seen.user_agent[:256],
            scim_type=draft.scim_type,
            detail=draft.detail,
            explanation=explain(seen.status, draft.scim_type, draft.detail, holder=holder),
            resource_type=draft.kind if draft.resource_id else None,
            resource_id=draft.resource_id,
            resource_name=(draft.resource_name or None) and str(draft.resource_name)[:256],
            attributes=draft.attributes,
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
