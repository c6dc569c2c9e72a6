"""UUIDs that keep their text (RFC 4122 §3: the canonical 36-character lower-case form).

A read by id turned the same ids into text eight times (the SQL arguments, ``id`` and
``meta.location`` in the body, the metrics label and the access log line), and
``uuid.UUID.__str__`` formats all 128 bits again each time; parsing the ids that SQLite hands
back as text took ``UUID.__init__``'s general parser twice more. :class:`TextUUID` is a
``UUID`` in every respect (equal to, hashing and ordering as the plain one) whose ``str()``
is the text it was made from.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID, SafeUUID

__all__ = ["TextUUID", "uuid_from_text", "with_text"]

_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class TextUUID(UUID):
    __slots__ = ("_text",)

    _text: str

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"UUID('{self._text}')"

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return uuid_from_text, (self._text,)


# UUID forbids attribute assignment (it is immutable): its slots are set through their
# descriptors, as ``object.__setattr__`` in UUID's own ``__init__`` does, a call fewer each.
_set_number = UUID.int.__set__  # type: ignore[attr-defined,misc]
_set_safety = UUID.is_safe.__set__  # type: ignore[attr-defined,misc]
_set_text = TextUUID._text.__set__  # type: ignore[attr-defined,misc]
_new = object.__new__
_UNKNOWN = SafeUUID.unknown


def _made(number: int, text: str) -> TextUUID:
    made = _new(TextUUID)
    _set_number(made, number)
    _set_safety(made, _UNKNOWN)
    _set_text(made, text)
    return made


def uuid_from_text(text: str) -> UUID:
    """``UUID(text)``, with the canonical text kept; ``ValueError`` where ``UUID`` raises it."""
    if _CANONICAL.fullmatch(text) is None:
        plain = UUID(text)  # any form ``UUID`` reads: upper case, braces, ``urn:uuid:``
        return _made(plain.int, str(plain))
    return _made(int(text.replace("-", ""), 16), text)


def with_text(value: UUID) -> UUID:
    """``value``, as a UUID whose text is formatted once (itself if it already keeps it)."""
    return value if isinstance(value, TextUUID) else _made(value.int, str(value))
