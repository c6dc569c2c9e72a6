"""The services one app (or one command) works with, built once from a store and settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from server.auth.service import TokenService
from server.domain.groups import GroupService
from server.domain.ports import Store  # runtime: Litestar inspects injected types
from server.domain.provisioning import ProvisioningService
from server.domain.recovery import PasswordResetService
from server.domain.signin import SignInLimiter, SignInService
from server.domain.sso import SsoConfigService
from server.domain.staff_admin import StaffAdminService
from server.domain.team import TeamService
from server.mapping.emails import normalized_email
from server.practices.service import PracticeService
from server.settings import Settings
from server.sso.oidc import OidcClient
from server.sso.saml_service import SamlSignInService
from server.sso.service import SsoSignInService

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
    sso_configs: SsoConfigService
    sign_in: SignInService
    sso: SsoSignInService
    saml: SamlSignInService
    password_reset: PasswordResetService
    team: TeamService

    @classmethod
    def build(
        cls,
        store: Store,
        settings: Settings,
        *,
        oidc: OidcClient | None = None,
        sign_in_limiter: SignInLimiter | None = None,
    ) -> Services:
        sign_in = SignInService(
            store,
            session_ttl=timedelta(seconds=settings.session_ttl_seconds),
            limiter=sign_in_limiter,
        )
        sso = SsoSignInService(store, oidc or OidcClient(), sign_in, public_url=settings.public_url)
        sso_configs = SsoConfigService(store)
        return cls(
            store=store,
            settings=settings,
            practices=PracticeService(store, settings),
            tokens=TokenService(store, token_ttl_seconds=settings.access_token_ttl_seconds),
            provisioning=ProvisioningService(store),
            groups=GroupService(store),
            staff_admin=StaffAdminService(store, normalize_email=normalized_email),
            sso_configs=sso_configs,
            sign_in=sign_in,
            sso=sso,
            saml=SamlSignInService(store, sso, sso_configs, public_url=settings.public_url),
            password_reset=PasswordResetService(store, public_url=settings.public_url),
            team=TeamService(store),
        )
