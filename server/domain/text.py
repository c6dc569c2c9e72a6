"""Text a database column can hold: no U+0000 and no unpaired surrogate.

PostgreSQL's ``text`` refuses NUL, and neither driver can encode a lone surrogate (which a
JSON ``\\ud800`` escape decodes to) as UTF-8; SQLite stored NUL as given. Refusing both
before a write or a lookup keeps the answer the same on either database: a 400 naming the
attribute, not a driver error.
"""

from __future__ import annotations

from server.domain.errors import InvalidValue

__all__ = ["check_storable", "storable", "unstorable"]


def unstorable(value: str) -> str | None:
    """What keeps ``value`` out of a text column, or None if nothing does."""
    if "\x00" in value:
        return "U+0000 (NUL)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "an unpaired surrogate"
    return None


def check_storable(label: str, value: str | None) -> None:
    """Raise ``InvalidValue`` naming ``label`` if ``value`` cannot be stored as text."""
    if value is None:
        return
    problem = unstorable(value)
    if problem is not None:
        raise InvalidValue(f"{label} may not contain {problem}")


def storable(value: str) -> str:
    """``value`` with U+0000 and unpaired surrogates replaced (U+FFFD, ``?``): for text kept
    only for people to read, such as the name an audit entry gives a failed sign-in."""
    return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
