"""Seeding practices and staff in bulk, straight through the repositories (no HTTP), so load
tests and benchmarks can start from 1k, 100k or 1M users in seconds to minutes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from server.domain.staff import AccessLevel, StaffProfile, StaffUser

if TYPE_CHECKING:
    from server.persistence.store import PiccoloStore
    from server.services import Services

__all__ = ["seed_practice", "seed_users", "seeded_user_name"]


def seeded_user_name(index: int) -> str:
    return f"user{index:07d}@seed.example.org"


async def seed_practice(services: Services, name: str) -> tuple[uuid.UUID, str, str]:
    """A practice with SCIM enabled: (practice id, client id, client secret)."""
    created = await services.practices.create_practice(name, actor="seed")
    credentials = await services.practices.enable(created.practice.id, actor="seed")
    return created.practice.id, credentials.client_id, credentials.client_secret


async def seed_users(
    store: PiccoloStore, practice_id: uuid.UUID, count: int, *, chunk: int = 10_000
) -> list[uuid.UUID]:
    """``count`` SCIM-provisioned staff accounts named ``seeded_user_name(i)``; their ids."""
    ids: list[uuid.UUID] = []
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for start in range(0, count, chunk):
        users = []
        for index in range(start, min(start + chunk, count)):
            moment = base + timedelta(seconds=index)
            users.append(
                StaffUser(
                    id=uuid.uuid4(),
                    practice_id=practice_id,
                    profile=StaffProfile(
                        user_name=seeded_user_name(index),
                        given_name=f"Given{index}",
                        family_name=f"Family{index}",
                        cell_phone=f"+1555{index:07d}",
                        email=seeded_user_name(index),
                        active=True,
                        external_id=f"ext-{index}",
                    ),
                    access_level=AccessLevel.ADMIN_STAFF,
                    is_practice_admin=False,
                    scim_provisioned=True,
                    scim_deleted=False,
                    sso_issuer=None,
                    sso_subject=None,
                    has_password=False,
                    version=1,
                    created_at=moment,
                    updated_at=moment,
                )
            )
        async with store.transaction():
            await store.staff.add_many(users)
        ids.extend(u.id for u in users)
    return ids
