"""Staff made by hand in the platform, and providers.

A provider is an existing staff account (SCIM-provisioned ones included) enrolled with an NPI
and a specialty, or a new hand-made account enrolled in the same step. Enrolling never
touches the fields an identity provider owns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from server.domain.clock import utcnow
from server.domain.errors import InvalidValue, NotFound, UniquenessConflict
from server.domain.practices import AuditEntry
from server.domain.records import Provider
from server.domain.staff import AccessLevel, StaffProfile, StaffUser

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from server.domain.ports import Store

__all__ = ["SPECIALTIES", "Provider", "ProviderView", "TeamService", "npi_is_valid"]

SPECIALTIES = (
    "Family Medicine",
    "Internal Medicine",
    "Pediatrics",
    "Obstetrics and Gynecology",
    "Psychiatry",
    "Dermatology",
    "Cardiology",
    "Nurse Practitioner",
    "Physician Assistant",
    "Other",
)


@dataclass(frozen=True, slots=True)
class ProviderView:
    provider: Provider
    user: StaffUser


def npi_is_valid(npi: str) -> bool:
    """Ten digits whose last is the Luhn check digit over ``80840`` + the first nine (CMS)."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed("80840" + npi)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _clean(value: str | None, label: str, *, field: str, required: bool = False) -> str | None:
    value = (value or "").strip()
    if required and not value:
        raise InvalidValue(f"Enter a {label.lower()}.", field=field)
    if len(value) > 256:
        raise InvalidValue(f"{label} is longer than 256 characters.", field=field)
    return value or None


class TeamService:
    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._now = clock

    async def add_staff(self, practice_id: UUID, profile: StaffProfile, *, actor: str) -> StaffUser:
        """A staff account made by hand: no password until its owner sets one by reset link."""
        async with self._store.transaction():
            return await self._insert_staff(practice_id, profile, actor=actor)

    async def _insert_staff(
        self, practice_id: UUID, profile: StaffProfile, *, actor: str
    ) -> StaffUser:
        now = self._now()
        user = StaffUser(
            id=uuid4(),
            practice_id=practice_id,
            profile=StaffProfile(
                user_name=_clean(profile.user_name, "Username", field="user_name", required=True)
                or "",
                given_name=_clean(profile.given_name, "First name", field="given_name"),
                family_name=_clean(profile.family_name, "Last name", field="family_name"),
                cell_phone=_clean(profile.cell_phone, "Cell phone", field="cell_phone"),
                email=_clean(profile.email, "Email", field="email"),
            ),
            access_level=AccessLevel.ADMIN_STAFF,
            is_practice_admin=False,
            scim_provisioned=False,
            scim_deleted=False,
            sso_issuer=None,
            sso_subject=None,
            has_password=False,
            version=1,
            created_at=now,
            updated_at=now,
        )
        await self._store.staff.add(user)
        await self._audit(practice_id, actor, "staff.created", f"id={user.id}")
        return user

    async def providers(self, practice_id: UUID) -> list[ProviderView]:
        users = {u.id: u for u in await self._store.staff.list_all(practice_id)}
        return [
            ProviderView(p, users[p.staff_id])
            for p in await self._store.providers.list(practice_id)
            if p.staff_id in users
        ]

    async def candidates(self, practice_id: UUID) -> list[StaffUser]:
        """Active accounts not yet providers, SCIM-provisioned ones included."""
        taken = {p.staff_id for p in await self._store.providers.list(practice_id)}
        return [
            u
            for u in await self._store.staff.list_all(practice_id)
            if u.profile.active and not u.scim_deleted and u.id not in taken
        ]

    async def add_provider(
        self,
        practice_id: UUID,
        *,
        staff_id: UUID | None,
        new_staff: StaffProfile | None,
        npi: str,
        specialty: str,
        actor: str,
    ) -> ProviderView:
        """Enroll an existing account (``staff_id``) or a new hand-made one (``new_staff``)."""
        npi = npi.strip()
        if not npi_is_valid(npi):
            raise InvalidValue("The NPI must be 10 digits with a valid check digit.")
        if specialty not in SPECIALTIES:
            raise InvalidValue("Choose a specialty from the list.")
        async with self._store.transaction():
            existing = await self._store.providers.list(practice_id)
            if any(p.npi == npi for p in existing):
                raise UniquenessConflict(f"NPI {npi} is already enrolled in this practice.")
            if staff_id is not None:
                user = await self._store.staff.get(practice_id, staff_id)
                if user is None or not user.profile.active or user.scim_deleted:
                    raise NotFound("Choose an active staff member of this practice.")
                if any(p.staff_id == staff_id for p in existing):
                    raise UniquenessConflict("This staff member is already a provider.")
            elif new_staff is not None:
                user = await self._insert_staff(practice_id, new_staff, actor=actor)
            else:
                raise InvalidValue("Choose an existing user or enter the new provider's name.")
            provider = Provider(uuid4(), practice_id, user.id, npi, specialty, self._now())
            await self._store.providers.add(provider)
            await self._audit(practice_id, actor, "provider.added", f"staff={user.id} npi={npi}")
        return ProviderView(provider, user)

    async def provider(self, practice_id: UUID, provider_id: UUID) -> ProviderView:
        found = next(
            (p for p in await self.providers(practice_id) if p.provider.id == provider_id), None
        )
        if found is None:
            raise NotFound("There is no such provider.")
        return found

    async def update_provider(
        self, practice_id: UUID, provider_id: UUID, *, npi: str, specialty: str, actor: str
    ) -> ProviderView:
        """Change the provider details the platform owns (never the provisioned fields)."""
        npi = npi.strip()
        if not npi_is_valid(npi):
            raise InvalidValue("The NPI must be 10 digits with a valid check digit.", field="npi")
        if specialty not in SPECIALTIES:
            raise InvalidValue("Choose a specialty from the list.", field="specialty")
        async with self._store.transaction():
            view = await self.provider(practice_id, provider_id)
            current = view.provider
            if any(
                p.npi == npi and p.id != provider_id
                for p in await self._store.providers.list(practice_id)
            ):
                raise UniquenessConflict(f"NPI {npi} is already enrolled in this practice.")
            updated = Provider(
                current.id, practice_id, current.staff_id, npi, specialty, current.created_at
            )
            changed = [
                f for f in ("npi", "specialty") if getattr(current, f) != getattr(updated, f)
            ]
            if changed:
                await self._store.providers.update(updated)
                await self._audit(
                    practice_id,
                    actor,
                    "provider.updated",
                    f"staff={current.staff_id} fields={','.join(changed)}",
                )
        return ProviderView(updated, view.user)

    async def remove_provider(self, practice_id: UUID, provider_id: UUID, *, actor: str) -> None:
        """Take the provider role away; the staff account stays as it is."""
        async with self._store.transaction():
            view = await self.provider(practice_id, provider_id)
            await self._store.providers.remove(practice_id, provider_id)
            await self._audit(
                practice_id, actor, "provider.removed", f"staff={view.provider.staff_id}"
            )

    async def _audit(self, practice_id: UUID, actor: str, action: str, detail: str) -> None:
        await self._store.audit.record(AuditEntry(practice_id, actor, action, detail, self._now()))
