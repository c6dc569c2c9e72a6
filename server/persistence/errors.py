"""Driver errors translated in one place, so no other module knows sqlite3 or asyncpg."""

from __future__ import annotations

import sqlite3

import asyncpg

__all__ = ["is_unique_violation", "violated_column"]


def is_unique_violation(error: BaseException) -> bool:
    if isinstance(error, asyncpg.UniqueViolationError):
        return True
    return isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error)


def violated_column(error: BaseException, candidates: tuple[str, ...]) -> str | None:
    """Which of ``candidates`` (column names) a unique violation is about, if it says."""
    text = str(error)
    if isinstance(error, asyncpg.UniqueViolationError):
        text = f"{error.constraint_name or ''} {text}"
    return next((column for column in candidates if column in text), None)
