"""Account Setup: a person's own profile (provisioned fields disabled), and the console's
front door, which sends administrators to Settings and everyone else here."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide

from server.console.auth import Viewer, provide_viewer
from server.console.forms import FORM_NEEDS_CHANGE
from server.console.render import page, redirect
from server.console.staff import PROFILE_FIELDS, email_errors, profile_edit, profile_errors
from server.domain.errors import DomainError
from server.domain.user_attributes import idp_owned_fields
from server.services import Services

__all__ = ["AccountController"]


class AccountController(Controller):
    path = "/console"
    include_in_schema = False
    dependencies = {"viewer": Provide(provide_viewer)}  # noqa: RUF012

    @get("/")
    async def home(self, viewer: NamedDependency[Viewer]) -> Response[Any]:
        return redirect("/console/settings/scim" if viewer.is_admin else "/console/account")

    async def _page(
        self,
        request: Request[Any, Any, Any],
        services: Services,
        viewer: Viewer,
        *,
        error: str | None = None,
        notice: str | None = None,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
    ) -> Response[Any]:
        """The page; after a refused save, with the errors beside their fields and what was
        typed kept."""
        if errors:
            error = FORM_NEEDS_CHANGE
        user = await services.store.staff.get(viewer.practice.id, viewer.user.id) or viewer.user
        sso = await services.sso_configs.get(viewer.practice.id)
        return page(
            request,
            services.settings,
            "account.html",
            status_code=400 if error else 200,
            viewer=viewer,
            user=user,
            sso=sso,
            locked=idp_owned_fields() if user.scim_provisioned else (),
            error=error,
            notice=notice,
            errors=errors or {},
            values=values or {},
        )

    @get("/account")
    async def show(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        return await self._page(request, services, viewer)

    @post("/account")
    async def save(
        self,
        request: Request[Any, Any, Any],
        viewer: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        form = await request.form()
        values = {key: str(form[key]) for key in PROFILE_FIELDS if key in form}
        edit = profile_edit(form, provisioned=viewer.user.scim_provisioned)
        errors = email_errors(values)
        try:
            if edit and not errors:
                await services.staff_admin.update_staff(
                    viewer.practice.id, viewer.user.id, edit, actor=viewer.actor
                )
        except DomainError as error:
            errors = profile_errors(error)
            if not errors:
                return await self._page(request, services, viewer, error=error.detail)
        if errors:
            return await self._page(request, services, viewer, errors=errors, values=values)
        return await self._page(request, services, viewer, notice="Your profile was saved.")
