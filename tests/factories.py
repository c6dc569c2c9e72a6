"""Accounts for tests that need a ``StaffUser`` without going through the service."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from server.domain.staff import AccessLevel, StaffProfile, StaffUser

__all__ = ["MOMENT", "scim_account"]

MOMENT = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def scim_account(
    profile: StaffProfile | str,
    *,
    practice_id: UUID | None = None,
    at: datetime = MOMENT,
    **fields: Any,
) -> StaffUser:
    """A SCIM-provisioned account as creation leaves it (Admin Staff, no password, no SSO
    link, version 1); ``profile`` may be just a userName; ``fields`` override the rest."""
    user = StaffUser(
        id=uuid4(),
        practice_id=practice_id or uuid4(),
        profile=StaffProfile(user_name=profile) if isinstance(profile, str) else profile,
        access_level=AccessLevel.ADMIN_STAFF,
        is_practice_admin=False,
        scim_provisioned=True,
        scim_deleted=False,
        sso_issuer=None,
        sso_subject=None,
        has_password=False,
        version=1,
        created_at=at,
        updated_at=at,
    )
    return replace(user, **fields)
