"""RFC 9865 cursor paging for ``/Users`` and ``/Groups`` listings (GET and ``.search``).

With a ``cursor`` parameter the page is the ``count`` rows after the position a
``nextCursor`` carries (the first page for an empty one), or before the position a
``previousCursor`` carries, read as ``count + 1`` rows so that the cursor onward is given
exactly when a further page exists. ``totalResults`` is counted on the first page and
carried in the cursors, so no later page counts the matches again."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from server.scim.cursors import CursorPosition, cursor_codec, query_binding

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from uuid import UUID

    from server.domain.query import ResourceQuery
    from server.scim.cursors import CursorCodec
    from server.scim.query import ListParameters
    from server.services import Services

__all__ = ["CursorPage", "CursorWalk", "cursor_walk"]


class _Positioned(Protocol):
    @property
    def created_at(self) -> datetime: ...
    @property
    def id(self) -> UUID: ...


_Row = TypeVar("_Row", bound=_Positioned)


@dataclass(frozen=True, slots=True)
class CursorPage(Generic[_Row]):
    """One cursor page: its rows in creation order, the walk's total, and the cursors to
    the pages beside it (None where there is none)."""

    rows: list[_Row]
    total: int
    next_cursor: str | None
    previous_cursor: str | None


@dataclass(frozen=True, slots=True)
class CursorWalk:
    codec: CursorCodec
    practice: UUID
    binding: str
    size: int
    start: CursorPosition | None  # None on the first page

    def _issue(self, row: _Positioned, *, backward: bool, total: int) -> str:
        position = CursorPosition((row.created_at, row.id), backward=backward, total=total)
        return self.codec.issue(
            practice=self.practice, binding=self.binding, position=position, now=time.time()
        )

    def page(self, total: int, rows: Sequence[_Row]) -> CursorPage[_Row]:
        """The page to answer from ``count + 1`` rows read from the cursor's position.

        Read forward, an extra row means a next page; read backward (nearest first), it
        means an earlier page, and the page the cursor came from is a next page. A page
        reached by a cursor forward has a page before it."""
        shown = list(rows[: self.size])
        more = len(rows) > self.size
        backward = self.start is not None and self.start.backward
        if backward:
            shown.reverse()
        has_next = backward or more
        has_previous = more if backward else self.start is not None
        next_cursor = previous_cursor = None
        if shown and has_next:
            next_cursor = self._issue(shown[-1], backward=False, total=total)
        if shown and has_previous:
            previous_cursor = self._issue(shown[0], backward=True, total=total)
        return CursorPage(shown, total, next_cursor, previous_cursor)


async def cursor_walk(
    services: Services, practice: UUID, parameters: ListParameters, resource: str
) -> tuple[ResourceQuery, CursorWalk | None]:
    """The query to run, and the walk that pages its rows (None for index paging)."""
    query = parameters.query
    if parameters.cursor is None:
        return query, None
    codec = await cursor_codec(services)
    binding = query_binding(resource, parameters.filter_text)
    start = None
    if parameters.cursor:
        start = codec.read(parameters.cursor, practice=practice, binding=binding, now=time.time())
    walk = CursorWalk(codec, practice, binding, query.limit, start)
    query = replace(query, offset=0, limit=query.limit + 1)
    if start is None:
        return query, walk
    if start.backward:
        return replace(query, before=start.row, known_total=start.total), walk
    return replace(query, after=start.row, known_total=start.total), walk
