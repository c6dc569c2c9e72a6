"""Settings → Single Sign-On: the practice's OpenID Connect identity provider and which claim
identifies a person (the link SCIM records when it creates an account)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide

from server.console.auth import Viewer, provide_admin, provide_viewer
from server.console.render import page
from server.domain.errors import DomainError
from server.domain.sso import LinkRule
from server.services import Services

__all__ = ["SsoSettingsController"]


class SsoSettingsController(Controller):
    path = "/console/settings/sso"
    include_in_schema = False
    dependencies = {  # noqa: RUF012
        "viewer": Provide(provide_viewer),
        "admin": Provide(provide_admin),
    }

    async def _page(
        self,
        request: Request[Any, Any, Any],
        services: Services,
        admin: Viewer,
        *,
        form: dict[str, str] | None = None,
        error: str | None = None,
        notice: str | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        practice_id = admin.practice.id
        config = await services.sso_configs.get(practice_id)
        values = form or {
            "issuer": config.issuer if config else "",
            "metadata_url": (config.metadata_url or "") if config else "",
            "client_id": config.client_id if config else "",
            "link_rule": config.link_rule.value if config else LinkRule.ENTRA_OID.value,
        }
        base = services.settings.public_url
        return page(
            request,
            services.settings,
            "settings_sso.html",
            status_code=status_code,
            viewer=admin,
            config=config,
            values=values,
            rules=list(LinkRule),
            redirect_uri=services.sso.redirect_uri(practice_id),
            sign_in_url=f"{base}/console/{practice_id}/sign-in",
            error=error,
            notice=notice,
        )

    @get("/")
    async def show(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        return await self._page(request, services, admin)

    @post("/")
    async def save(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        raw = await request.form()
        form = {
            key: str(raw.get(key, "")).strip()
            for key in ("issuer", "metadata_url", "client_id", "link_rule")
        }
        try:
            _, relinked = await services.sso_configs.configure(
                admin.practice.id,
                issuer=form["issuer"],
                client_id=form["client_id"],
                client_secret=str(raw.get("client_secret", "")) or None,
                link_rule=form["link_rule"],
                metadata_url=form["metadata_url"] or None,
                actor=admin.actor,
            )
        except DomainError as error:
            return await self._page(
                request, services, admin, form=form, error=error.detail, status_code=400
            )
        notice = f"Single sign-on is saved. {relinked} provisioned account(s) were linked anew."
        return await self._page(request, services, admin, notice=notice)
