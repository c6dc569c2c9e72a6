"""RFC 9865 cursors: opaque, signed tokens that carry where the last page ended.

A cursor is ``<payload>.<mac>``, both url-safe base64 without padding (RFC 3986 unreserved
characters only). The payload names the practice, a digest of the query it belongs to, when
it was issued, a row's ``(created_at, id)``, which way it points, and the walk's
``totalResults``: a ``nextCursor`` asks for the rows after the page's last row, a
``previousCursor`` for the rows before its first, each one range read of an index (keyset
paging), however deep the walk. The total is counted once, on the first page, and carried.
The MAC is HMAC-SHA256 with a key derived from ``SCIMLAB_SECRET_KEY`` (every configured key
verifies, so a rotation does not break a walk in progress); without one (development) with
a random key kept in the database, made by the first host that needs it. Either way cursors
survive a restart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from server.scim.operations.exchange import ScimRequestError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from server.services import Services

__all__ = [
    "CURSOR_TIMEOUT_SECONDS",
    "CursorCodec",
    "CursorPosition",
    "cursor_codec",
    "query_binding",
]

#: How long a cursor stays valid (advertised as ``pagination.cursorTimeout``).
CURSOR_TIMEOUT_SECONDS = 3600

_VERSION = 2
_FIRST_VERSION = 1  # (no total, always forward): still read, so a walk survives an upgrade
_PURPOSE = b"scimlab scim cursor v1"
_STORED_KEY = "scim_cursor_key"


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _invalid(detail: str) -> ScimRequestError:
    return ScimRequestError(400, detail, "invalidCursor")


def query_binding(resource: str, filter_text: str | None) -> str:
    """What a cursor is bound to besides the practice: the resource type and the filter
    (sorting is fixed in cursor mode; attributes and count may change between pages)."""
    text = json.dumps([resource, filter_text or ""], separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class CursorPosition:
    """Where a cursor points: the rows after ``row`` (or before it, ``backward``), in the
    walk whose ``total`` was counted on its first page (None from a first-version cursor)."""

    row: tuple[datetime, UUID]
    backward: bool = False
    total: int | None = None


class CursorCodec:
    """Issues and reads cursors with ``keys`` (the first signs, every one verifies)."""

    __slots__ = ("_keys",)

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            msg = "a cursor codec needs a key"
            raise ValueError(msg)
        self._keys = tuple(keys)

    def _mac(self, key: bytes, payload: str) -> bytes:
        return hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()

    def issue(self, *, practice: UUID, binding: str, position: CursorPosition, now: float) -> str:
        created_at, row_id = position.row
        fields = [
            _VERSION,
            str(practice),
            binding,
            int(now),
            created_at.isoformat(),
            str(row_id),
            position.total,
            int(position.backward),
        ]
        payload = _encode(json.dumps(fields, separators=(",", ":")).encode("utf-8"))
        return f"{payload}.{_encode(self._mac(self._keys[0], payload))}"

    def read(self, token: str, *, practice: UUID, binding: str, now: float) -> CursorPosition:
        """The position a cursor carries; ``ScimRequestError`` 400 ``invalidCursor`` for a
        token this server did not issue for this practice and query, ``expiredCursor`` for
        one older than ``CURSOR_TIMEOUT_SECONDS``."""
        payload, _, mac = token.partition(".")
        try:
            given = _decode(mac)
        except (binascii.Error, ValueError):
            raise _invalid("the cursor is not one this server issued") from None
        if not payload or not any(
            hmac.compare_digest(given, self._mac(key, payload)) for key in self._keys
        ):
            raise _invalid("the cursor is not one this server issued")
        try:
            fields = json.loads(_decode(payload))
            version, owner, bound, issued, created_at, row_id = fields[:6]
            row = (datetime.fromisoformat(created_at), UUID(row_id))
            total, backward = fields[6:] if version == _VERSION else (None, 0)
        except (ValueError, TypeError):
            raise _invalid("the cursor is not one this server issued") from None
        if version not in {_VERSION, _FIRST_VERSION} or owner != str(practice) or bound != binding:
            raise _invalid("the cursor belongs to another query: start again with an empty one")
        if not isinstance(issued, int) or now - issued > CURSOR_TIMEOUT_SECONDS:
            raise ScimRequestError(
                400,
                f"the cursor expired (cursorTimeout is {CURSOR_TIMEOUT_SECONDS} seconds)",
                "expiredCursor",
            )
        return CursorPosition(row, backward=bool(backward), total=total)


def _derived(secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), _PURPOSE, hashlib.sha256).digest()


async def cursor_codec(services: Services) -> CursorCodec:
    """The codec of this deployment: keys derived from ``SCIMLAB_SECRET_KEY`` (each one a
    separate purpose-bound key, never the encryption key itself), or the database's own."""
    secrets_configured = services.settings.secret_keys
    if secrets_configured:
        return CursorCodec([_derived(secret) for secret in secrets_configured])
    kept = await services.store.deployment.setdefault(_STORED_KEY, secrets.token_urlsafe(32))
    return CursorCodec([_derived(kept)])
