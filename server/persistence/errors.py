"""Driver errors translated in one place, so no other module knows sqlite3 or asyncpg."""

from __future__ import annotations

import sqlite3

import asyncpg

__all__ = ["is_unique_violation"]


def is_unique_violation(error: BaseException) -> bool:
    if isinstance(error, asyncpg.UniqueViolationError):
        return True
    return isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error)
