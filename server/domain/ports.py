"""The small protocols that services depend on. Only ``server.persistence`` implements them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Collection
    from contextlib import AbstractAsyncContextManager
    from datetime import datetime
    from uuid import UUID

    from server.domain.account_keys import AccountKey, UserNameKey
    from server.domain.acting import ActingCredential
    from server.domain.practices import (
        AccessToken,
        AuditEntry,
        AuditFilter,
        Practice,
        ScimConfig,
    )
    from server.domain.query import ResourceQuery
    from server.domain.records import GroupRecord, Location, OutboxMessage, Provider
    from server.domain.signin_ports import (
        CredentialRepository,
        FlowRepository,
        MfaRepository,
        SamlRepository,
        SsoConfigRepository,
    )
    from server.domain.staff import StaffUser

__all__ = [
    "AuditRepository",
    "DeploymentSettings",
    "GroupRepository",
    "LocationRepository",
    "OutboxRepository",
    "PracticeRepository",
    "ProviderRepository",
    "ScimConfigRepository",
    "SessionRepository",
    "StaffRepository",
    "Store",
    "TokenRepository",
]


class PracticeRepository(Protocol):
    async def add(self, practice: Practice) -> None: ...
    async def get(self, practice_id: UUID) -> Practice | None: ...
    async def list_all(self) -> list[Practice]:
        """Every practice, oldest first (the operator's ``scimlab practice list``)."""
        ...


class ScimConfigRepository(Protocol):
    async def get(self, practice_id: UUID) -> ScimConfig | None: ...
    async def get_by_client_id(self, client_id: str) -> ScimConfig | None: ...
    async def save(self, config: ScimConfig) -> None: ...
    async def delete(self, practice_id: UUID) -> None: ...


class TokenRepository(Protocol):
    async def add(self, token: AccessToken, token_hash: str) -> None: ...

    async def credential_for(
        self,
        token_hash: str,
        practice_id: UUID,
        now: datetime,
        *,
        account: AccountKey | None = None,
        sso_config: bool = False,
    ) -> ActingCredential | None:
        """The credential the token is, named (an OAuth client by its client id, a static
        token by its hint), when it acts for ``practice_id``: unexpired and issued under that
        practice's current, enabled secret; else None. ``account``: the account the request
        reads next (by id or by userName), or ``sso_config``: the request reads the practice's
        SSO configuration next, which a store may read in the same statement."""
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
        audit: AuditEntry | None = None,
    ) -> None:
        """Insert, and record ``audit`` with it (both or neither); raises
        ``UniquenessConflict`` when the userName is taken in the practice."""
        ...

    async def add_many(self, users: list[StaffUser], *, batch: int = 500) -> None:
        """Bulk insert of new accounts (seeding)."""
        ...

    async def get(self, practice_id: UUID, user_id: UUID) -> StaffUser | None: ...

    async def get_with_groups(
        self, practice_id: UUID, user_id: UUID, *, lock: bool = False
    ) -> tuple[StaffUser, list[tuple[UUID, str]]] | None:
        """The account and its groups as (id, displayName), ordered as ``of_users`` orders
        them, in one query: a SCIM read by id. ``lock`` (only inside ``Store.transaction``):
        no other writer changes the account until the transaction ends."""
        ...

    async def find_with_groups(
        self, practice_id: UUID, user_name: UserNameKey
    ) -> tuple[StaffUser, list[tuple[UUID, str]]] | None:
        """The account a ``userName eq`` filter finds (one at most: the key is unique in a
        practice), with its groups as ``get_with_groups`` has them; None when no account
        ``list_scim`` would list has that userName."""
        ...

    async def lock_administrators(self, practice_id: UUID) -> list[StaffUser]:
        """The practice's administrators, held (only inside ``Store.transaction``) until the
        transaction ends: role changes of one practice are made one at a time."""
        ...

    async def list_scim(
        self, practice_id: UUID, query: ResourceQuery
    ) -> tuple[int, list[StaffUser]]:
        """SCIM-provisioned, not SCIM-deleted users matching the query: (total, one page);
        the total is ``query.known_total`` when the caller gives one (not counted again)."""
        ...

    async def list_scim_with_groups(
        self, practice_id: UUID, query: ResourceQuery
    ) -> tuple[int, list[tuple[StaffUser, list[tuple[UUID, str]]]]]:
        """The same page, each account with its groups as ``get_with_groups`` has them, in
        one statement (and a ``COUNT`` when the page is full)."""
        ...

    async def update(
        self, user: StaffUser, *, expected_version: int, audit: AuditEntry | None = None
    ) -> StaffUser:
        """Write ``user`` as version ``expected_version + 1``, and record ``audit`` with it
        (both or neither); raises ``WriteConflict`` when the stored version moved on and
        ``UniquenessConflict`` on a taken userName."""
        ...

    async def find_admin_by_api_key(self, api_key_hash: str) -> StaffUser | None: ...

    async def list_all(self, practice_id: UUID) -> list[StaffUser]:
        """Every account of the practice, SCIM-provisioned or not, oldest first."""
        ...

    async def visible_ids(self, practice_id: UUID, user_ids: Collection[UUID]) -> set[UUID]:
        """Which of ``user_ids`` are SCIM-visible accounts of the practice."""
        ...


class GroupRepository(Protocol):
    async def add(self, group: GroupRecord) -> None:
        """Insert with members; ``UniquenessConflict`` when the displayName is taken."""
        ...

    async def get(
        self, practice_id: UUID, group_id: UUID, *, with_members: bool, lock: bool = False
    ) -> GroupRecord | None:
        """``lock`` (only inside ``Store.transaction``): no other writer changes the group
        until the transaction ends."""
        ...

    async def search(
        self, practice_id: UUID, query: ResourceQuery, *, with_members: bool
    ) -> tuple[int, list[GroupRecord]]: ...

    async def update(self, group: GroupRecord, *, expected_version: int) -> GroupRecord:
        """Write ``group`` (and its members) as version ``expected_version + 1``; raises
        ``WriteConflict`` when the stored version moved on."""
        ...

    async def delete(self, practice_id: UUID, group_id: UUID) -> None: ...

    async def of_users(
        self, practice_id: UUID, user_ids: Collection[UUID]
    ) -> dict[UUID, list[tuple[UUID, str]]]:
        """Each user's groups as (id, displayName)."""
        ...

    async def remove_member(self, practice_id: UUID, user_id: UUID) -> None: ...


class LocationRepository(Protocol):
    async def add(self, location: Location) -> None: ...
    async def list(self, practice_id: UUID) -> list[Location]: ...

    async def assigned(
        self, practice_id: UUID, staff_ids: Collection[UUID]
    ) -> dict[UUID, tuple[UUID, ...]]: ...

    async def assign(
        self, practice_id: UUID, staff_id: UUID, location_ids: tuple[UUID, ...]
    ) -> None:
        """Replace the staff member's locations."""
        ...


class SessionRepository(Protocol):
    async def add(
        self, practice_id: UUID, staff_id: UUID, token_hash: str, expires_at: datetime
    ) -> UUID: ...

    async def find_active(self, token_hash: str, now: datetime) -> tuple[UUID, UUID] | None:
        """(practice id, staff id) of an unexpired session whose account is active."""
        ...

    async def revoke_for_user(self, practice_id: UUID, staff_id: UUID) -> int: ...


class AuditRepository(Protocol):
    async def record(self, entry: AuditEntry) -> None: ...
    async def list(
        self,
        practice_id: UUID,
        *,
        limit: int,
        offset: int = 0,
        where: AuditFilter | None = None,
    ) -> list[AuditEntry]: ...


class ProviderRepository(Protocol):
    async def add(self, provider: Provider) -> None: ...
    async def update(self, provider: Provider) -> bool: ...
    async def remove(self, practice_id: UUID, provider_id: UUID) -> bool: ...
    async def list(self, practice_id: UUID) -> list[Provider]: ...


class OutboxRepository(Protocol):
    async def send(self, message: OutboxMessage) -> None: ...
    async def list(self, practice_id: UUID, *, limit: int) -> list[OutboxMessage]: ...


class DeploymentSettings(Protocol):
    """Settings kept in the database for every host of a deployment, by name."""

    async def get(self, name: str) -> str | None: ...

    async def setdefault(self, name: str, value: str) -> str:
        """The value kept under ``name``, first keeping ``value`` if there is none (the
        first writer wins when hosts race)."""
        ...


class Store(Protocol):
    """Every repository, plus one transaction spanning them."""

    @property
    def deployment(self) -> DeploymentSettings: ...

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
    @property
    def groups(self) -> GroupRepository: ...
    @property
    def locations(self) -> LocationRepository: ...
    @property
    def sessions(self) -> SessionRepository: ...
    @property
    def sso_configs(self) -> SsoConfigRepository: ...
    @property
    def saml(self) -> SamlRepository: ...
    @property
    def credentials(self) -> CredentialRepository: ...
    @property
    def mfa(self) -> MfaRepository: ...
    @property
    def flows(self) -> FlowRepository: ...
    @property
    def providers(self) -> ProviderRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...

    def transaction(self) -> AbstractAsyncContextManager[None]: ...
    async def ping(self) -> None: ...
