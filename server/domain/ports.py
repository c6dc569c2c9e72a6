"""The small protocols that services depend on. Only ``server.persistence`` implements them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager
    from datetime import datetime
    from uuid import UUID

    from server.domain.practices import AccessToken, AuditEntry, Practice, ScimConfig
    from server.domain.query import StaffQuery
    from server.domain.staff import StaffUser

__all__ = [
    "AuditRepository",
    "PracticeRepository",
    "ScimConfigRepository",
    "StaffRepository",
    "Store",
    "TokenRepository",
]


class PracticeRepository(Protocol):
    async def add(self, practice: Practice) -> None: ...
    async def get(self, practice_id: UUID) -> Practice | None: ...


class ScimConfigRepository(Protocol):
    async def get(self, practice_id: UUID) -> ScimConfig | None: ...
    async def get_by_client_id(self, client_id: str) -> ScimConfig | None: ...
    async def save(self, config: ScimConfig) -> None: ...
    async def delete(self, practice_id: UUID) -> None: ...


class TokenRepository(Protocol):
    async def add(self, token: AccessToken, token_hash: str) -> None: ...

    async def find_valid(self, token_hash: str, now: datetime) -> AccessToken | None:
        """The token, only if unexpired and issued under its practice's current, enabled secret."""
        ...

    async def revoke_all(self, practice_id: UUID) -> int: ...
    async def revoke(self, practice_id: UUID, token_id: UUID) -> bool: ...
    async def list_static(self, practice_id: UUID) -> list[AccessToken]: ...


class StaffRepository(Protocol):
    async def add(
        self,
        user: StaffUser,
        *,
        password_hash: str | None = None,
        api_key_hash: str | None = None,
    ) -> None:
        """Insert; raises ``UniquenessConflict`` when the userName is taken in the practice."""
        ...

    async def get(self, practice_id: UUID, user_id: UUID) -> StaffUser | None: ...

    async def list_scim(self, practice_id: UUID, query: StaffQuery) -> tuple[int, list[StaffUser]]:
        """SCIM-provisioned, not SCIM-deleted users matching the query: (total, one page)."""
        ...

    async def update(self, user: StaffUser, *, expected_version: int) -> StaffUser:
        """Write ``user`` as version ``expected_version + 1``; raises ``PreconditionFailed``
        when the stored version moved on and ``UniquenessConflict`` on a taken userName."""
        ...

    async def find_admin_by_api_key(self, api_key_hash: str) -> StaffUser | None: ...


class AuditRepository(Protocol):
    async def record(self, entry: AuditEntry) -> None: ...
    async def list(self, practice_id: UUID, *, limit: int) -> list[AuditEntry]: ...


class Store(Protocol):
    """Every repository, plus one transaction spanning them."""

    @property
    def practices(self) -> PracticeRepository: ...
    @property
    def scim_configs(self) -> ScimConfigRepository: ...
    @property
    def tokens(self) -> TokenRepository: ...
    @property
    def staff(self) -> StaffRepository: ...
    @property
    def audit(self) -> AuditRepository: ...

    def transaction(self) -> AbstractAsyncContextManager[None]: ...
    async def ping(self) -> None: ...
