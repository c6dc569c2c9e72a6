"""Answers remembered for as long as nothing at all has been committed to the database.

A hot read on SQLite (a token's validity, a user by id) asks the database the same question
again and again between writes. ``SnapshotMemo`` keeps what the database answered, tagged
with the stamp of ``DirectSql.unchanged_since`` (SQLite's ``PRAGMA data_version``), and
answers from it only under the very same stamp: any commit, by this process or another,
makes every entry stale, and the first lookup under a new stamp drops them all. Where no
stamp is known (PostgreSQL, inside a transaction) nothing is remembered.

The caller reads the stamp before its query and remembers under that stamp: a commit landing
in between gives a later stamp, under which the entry is never used. Entries are bounded; the
oldest goes first. Keys carry the practice, as every query does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Hashable

__all__ = ["SnapshotMemo"]

K = TypeVar("K")
V = TypeVar("V")


class SnapshotMemo(Generic[K, V]):
    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._stamp: Hashable | None = None
        self._entries: dict[K, V] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, stamp: Hashable | None, key: K) -> V | None:
        """What was remembered for ``key`` under ``stamp``; None if nothing was."""
        if stamp is None:
            return None
        if stamp != self._stamp:
            self._entries.clear()  # written since: every entry is stale
            self._stamp = stamp
            return None
        return self._entries.get(key)

    def put(self, stamp: Hashable | None, key: K, value: V) -> None:
        """Remember ``value``, read after ``stamp`` was taken, if that is still the stamp."""
        if stamp is None or stamp != self._stamp or self._capacity < 1:
            return
        entries = self._entries
        if key not in entries and len(entries) >= self._capacity:
            del entries[next(iter(entries))]
        entries[key] = value
