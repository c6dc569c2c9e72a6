"""The one default clock. Services take a ``clock`` argument so tests can move time."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["iso_utc", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with ``Z``, as every JSON output writes dates."""
    text = moment.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"
