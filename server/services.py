"""The services one app (or one command) works with, built once from a store and settings."""

from __future__ import annotations

from dataclasses import dataclass

from server.auth.service import TokenService
from server.domain.groups import GroupService
from server.domain.ports import Store  # runtime: Litestar inspects injected types
from server.domain.provisioning import ProvisioningService
from server.domain.staff_admin import StaffAdminService
from server.practices.service import PracticeService
from server.settings import Settings

__all__ = ["Services"]


@dataclass(frozen=True, slots=True)
class Services:
    store: Store
    settings: Settings
    practices: PracticeService
    tokens: TokenService
    provisioning: ProvisioningService
    groups: GroupService
    staff_admin: StaffAdminService

    @classmethod
    def build(cls, store: Store, settings: Settings) -> Services:
        return cls(
            store=store,
            settings=settings,
            practices=PracticeService(store, settings),
            tokens=TokenService(store, token_ttl_seconds=settings.access_token_ttl_seconds),
            provisioning=ProvisioningService(store),
            groups=GroupService(store),
            staff_admin=StaffAdminService(store),
        )
