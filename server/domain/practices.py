"""Practices (companies), their SCIM configuration and its credentials."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

__all__ = ["AccessToken", "AuditEntry", "AuditFilter", "Practice", "ScimConfig", "TokenKind"]


@dataclass(frozen=True, slots=True)
class Practice:
    id: UUID
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ScimConfig:
    """A practice's SCIM connection. ``credential_id`` changes with every new secret;
    tokens carry it, so a regenerated secret invalidates every token issued before."""

    practice_id: UUID
    client_id: str
    secret_hash: str
    secret_hint: str
    credential_id: UUID
    enabled: bool
    created_at: datetime
    updated_at: datetime


class TokenKind(StrEnum):
    OAUTH = "oauth"
    STATIC = "static"


@dataclass(frozen=True, slots=True)
class AccessToken:
    id: UUID
    practice_id: UUID
    kind: TokenKind
    credential_id: UUID
    expires_at: datetime | None
    created_at: datetime
    hint: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """``address``: the client address of the request that caused the entry, stamped by the
    store when it records it (None from the command line)."""

    practice_id: UUID
    actor: str
    action: str
    detail: str
    created_at: datetime
    address: str | None = None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which audit entries to list: actions starting with one of ``action_prefixes``, actors
    starting with ``actor_prefix``, entries about ``staff_id``, and a time range
    (``since`` inclusive, ``until`` exclusive). Empty means no restriction."""

    action_prefixes: tuple[str, ...] = ()
    actor_prefix: str | None = None
    staff_id: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
