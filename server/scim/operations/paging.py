"""RFC 9865 cursor paging for ``/Users`` and ``/Groups`` listings (GET and ``.search``).

With a ``cursor`` parameter the page is the ``count`` rows after the position the cursor
carries (the first page for an empty one), read as ``count + 1`` rows so that ``nextCursor``
is given exactly when a further page exists, and left out on the last page."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol, TypeVar

from server.scim.cursors import cursor_codec, query_binding

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from uuid import UUID

    from server.domain.query import ResourceQuery
    from server.scim.cursors import CursorCodec
    from server.scim.query import ListParameters
    from server.services import Services

__all__ = ["CursorWalk", "cursor_walk"]


class _Positioned(Protocol):
    @property
    def created_at(self) -> datetime: ...
    @property
    def id(self) -> UUID: ...


_Row = TypeVar("_Row", bound=_Positioned)


@dataclass(frozen=True, slots=True)
class CursorWalk:
    codec: CursorCodec
    practice: UUID
    binding: str
    size: int

    def page(self, rows: Sequence[_Row]) -> tuple[list[_Row], str | None]:
        """The page to answer and its ``nextCursor`` (None on the last page)."""
        shown = list(rows[: self.size])
        if len(rows) <= self.size:
            return shown, None
        last = shown[-1]
        token = self.codec.issue(
            practice=self.practice,
            binding=self.binding,
            position=(last.created_at, last.id),
            now=time.time(),
        )
        return shown, token


async def cursor_walk(
    services: Services, practice: UUID, parameters: ListParameters, resource: str
) -> tuple[ResourceQuery, CursorWalk | None]:
    """The query to run, and the walk that pages its rows (None for index paging)."""
    query = parameters.query
    if parameters.cursor is None:
        return query, None
    codec = await cursor_codec(services)
    binding = query_binding(resource, parameters.filter_text)
    after = None
    if parameters.cursor:
        after = codec.read(parameters.cursor, practice=practice, binding=binding, now=time.time())
    walk = CursorWalk(codec, practice, binding, query.limit)
    return replace(query, offset=0, limit=query.limit + 1, after=after), walk
