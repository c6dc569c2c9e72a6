"""Settings → SCIM Provisioning: enable, copy the four values, pause (type DISABLE), regenerate
the secret, delete (type DELETE), static tokens, recent provisioning and the audit log.

A new secret or token is rendered straight into the response of the POST that made it (the
server keeps no copy); any later view of the page shows it masked.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from server.console.audit import audit_lines
from server.console.auth import Viewer, provide_admin, provide_viewer
from server.console.recording import recording_view
from server.console.render import page, redirect
from server.domain.errors import DomainError, NotFound
from server.practices.service import ScimCredentials, StaticToken
from server.security import mask_secret
from server.services import Services

__all__ = ["ScimSettingsController"]

NOTICES = {
    "resumed": "SCIM provisioning is on again, with the same client ID and secret.",
    "disabled": "SCIM provisioning is paused. Existing users are not affected.",
    "deleted": "The SCIM configuration was deleted. Enable SCIM again to get new credentials.",
    "token_revoked": "The static token was revoked.",
}


class ScimSettingsController(Controller):
    path = "/console/settings"
    include_in_schema = False
    dependencies = {  # noqa: RUF012
        "viewer": Provide(provide_viewer),
        "admin": Provide(provide_admin),
    }

    @get("/")
    async def settings_home(self, admin: NamedDependency[Viewer]) -> Response[Any]:
        return redirect("/console/settings/scim")

    async def _page(
        self,
        request: Request[Any, Any, Any],
        services: Services,
        admin: Viewer,
        *,
        shown: ScimCredentials | None = None,
        new_token: StaticToken | None = None,
        error: str | None = None,
        status_code: int = 200,
        one_time_notice: str | None = None,
    ) -> Response[Any]:
        practice_id = admin.practice.id
        config = shown
        if config is None:
            try:
                config = await services.practices.show(practice_id)
            except NotFound:
                config = None
        tokens = await services.practices.list_static_tokens(practice_id) if config else []
        return page(
            request,
            services.settings,
            "settings_scim.html",
            status_code=status_code,
            viewer=admin,
            config=config,
            new_token=new_token,
            tokens=[(t, mask_secret(t.hint)) for t in tokens],
            activity=await services.store.credentials.recently_provisioned(practice_id, limit=10),
            audit=(await audit_lines(services, admin, limit=10, where=None))[0],
            notice=NOTICES.get(request.query_params.get("notice", "")),
            error=error,
            recording=await recording_view(request, services, admin),
            one_time_notice=one_time_notice,
        )

    @get("/scim")
    async def show(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        return await self._page(request, services, admin)

    @post("/scim/enable")
    async def enable(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        credentials = await services.practices.enable(admin.practice.id, actor=admin.actor)
        if not credentials.secret_shown:
            return redirect("/console/settings/scim?notice=resumed")
        return await self._page(request, services, admin, shown=credentials)

    @post("/scim/disable")
    async def disable(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        form = await request.form()
        try:
            await services.practices.disable(
                admin.practice.id, confirm=str(form.get("confirm", "")), actor=admin.actor
            )
        except DomainError as error:
            return await self._page(request, services, admin, error=error.detail, status_code=400)
        return redirect("/console/settings/scim?notice=disabled")

    @post("/scim/regenerate")
    async def regenerate(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        try:
            credentials = await services.practices.regenerate_secret(
                admin.practice.id, actor=admin.actor
            )
        except DomainError as error:
            return await self._page(request, services, admin, error=error.detail, status_code=400)
        return await self._page(
            request,
            services,
            admin,
            shown=credentials,
            one_time_notice="A new client secret was generated, and the old one no longer works.",
        )

    @post("/scim/delete")
    async def delete_config(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        form = await request.form()
        try:
            await services.practices.delete(
                admin.practice.id, confirm=str(form.get("confirm", "")), actor=admin.actor
            )
        except DomainError as error:
            return await self._page(request, services, admin, error=error.detail, status_code=400)
        return redirect("/console/settings/scim?notice=deleted")

    @post("/scim/tokens")
    async def create_token(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        try:
            token = await services.practices.create_static_token(
                admin.practice.id, actor=admin.actor
            )
        except DomainError as error:
            return await self._page(request, services, admin, error=error.detail, status_code=400)
        return await self._page(
            request,
            services,
            admin,
            new_token=token,
            one_time_notice="A new static token was created.",
        )

    @post("/scim/tokens/{token_id:uuid}/revoke")
    async def revoke_token(
        self,
        request: Request[Any, Any, Any],
        token_id: FromPath[UUID],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        try:
            await services.practices.revoke_static_token(
                admin.practice.id, token_id, actor=admin.actor
            )
        except DomainError as error:
            return await self._page(request, services, admin, error=error.detail, status_code=400)
        return redirect("/console/settings/scim?notice=token_revoked")
