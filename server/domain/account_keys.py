"""How a SCIM request names the one account it reads first: by its id (a read, PATCH or PUT
of ``/Users/{id}``), or by its userName (a ``userName eq`` filter), whose key is unique in
its practice, so that lookup too finds one account at most."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from server.domain.text import text_key

__all__ = ["AccountKey", "UserNameKey"]


@dataclass(frozen=True, slots=True)
class UserNameKey:
    """An account named by its userName, as ``text_key`` compares it."""

    key: str

    @classmethod
    def of(cls, user_name: str) -> UserNameKey:
        return cls(text_key(user_name))


AccountKey = UUID | UserNameKey
