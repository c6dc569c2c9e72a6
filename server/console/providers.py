"""Providers: "Add Provider" from an existing user (SCIM-provisioned staff included) or as a new
hand-made account, then the provider details (NPI, specialty)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from server.console.auth import Viewer, provide_admin, provide_viewer
from server.console.forms import FORM_NEEDS_CHANGE
from server.console.render import page, redirect
from server.console.staff import new_profile, profile_edit
from server.domain.errors import DomainError, NotFound
from server.domain.staff import StaffProfile
from server.domain.team import SPECIALTIES
from server.domain.user_attributes import idp_owned_fields
from server.services import Services

__all__ = ["ProvidersController"]


class ProvidersController(Controller):
    path = "/console/providers"
    include_in_schema = False
    dependencies = {  # noqa: RUF012
        "viewer": Provide(provide_viewer),
        "admin": Provide(provide_admin),
    }

    @get("/")
    async def list_providers(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        notice = {"added": "The provider was added.", "removed": "The provider role was removed."}
        return page(
            request,
            services.settings,
            "providers.html",
            viewer=admin,
            providers=await services.team.providers(admin.practice.id),
            notice=notice.get(request.query_params.get("notice", "")),
        )

    async def _new(
        self,
        request: Request[Any, Any, Any],
        services: Services,
        admin: Viewer,
        *,
        values: dict[str, str] | None = None,
        error: str | None = None,
    ) -> Response[Any]:
        return page(
            request,
            services.settings,
            "provider_new.html",
            status_code=400 if error else 200,
            viewer=admin,
            candidates=await services.team.candidates(admin.practice.id),
            specialties=SPECIALTIES,
            provisioned_fields=idp_owned_fields(),
            values=values or {"existing": "on"},
            error=error,
        )

    @get("/new")
    async def new_page(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        return await self._new(request, services, admin)

    @post("/")
    async def add(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        form = await request.form()
        values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
        staff_id: UUID | None = None
        new_staff: StaffProfile | None = None
        try:
            if values.get("existing") == "on":
                try:
                    staff_id = UUID(values.get("staff_id", ""))
                except ValueError:
                    raise DomainError("Choose the staff member to enroll.") from None
            else:
                new_staff = new_profile(values)
            await services.team.add_provider(
                admin.practice.id,
                staff_id=staff_id,
                new_staff=new_staff,
                npi=values.get("npi", ""),
                specialty=values.get("specialty", ""),
                actor=admin.actor,
            )
        except DomainError as error:
            return await self._new(request, services, admin, values=values, error=error.detail)
        return redirect("/console/providers?notice=added")

    async def _detail(
        self,
        request: Request[Any, Any, Any],
        services: Services,
        admin: Viewer,
        provider_id: UUID,
        *,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
    ) -> Response[Any]:
        try:
            view = await services.team.provider(admin.practice.id, provider_id)
        except NotFound:
            raise NotFoundException("There is no such provider.") from None
        return page(
            request,
            services.settings,
            "provider_detail.html",
            status_code=400 if errors else 200,
            viewer=admin,
            item=view,
            specialties=SPECIALTIES,
            locked=idp_owned_fields() if view.user.scim_provisioned else (),
            errors=errors or {},
            values=values or {"npi": view.provider.npi, "specialty": view.provider.specialty},
            notice="The provider was saved." if request.query_params.get("notice") else None,
            error=FORM_NEEDS_CHANGE if errors else None,
        )

    @get("/{provider_id:uuid}")
    async def detail(
        self,
        request: Request[Any, Any, Any],
        provider_id: FromPath[UUID],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        return await self._detail(request, services, admin, provider_id)

    @post("/{provider_id:uuid}")
    async def save(
        self,
        request: Request[Any, Any, Any],
        provider_id: FromPath[UUID],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        form = await request.form()
        values = {k: str(form.get(k, "")) for k in ("npi", "specialty")}
        practice_id = admin.practice.id
        try:
            view = await services.team.provider(practice_id, provider_id)
            edit = profile_edit(form, provisioned=view.user.scim_provisioned)
            async with services.store.transaction():  # both changes, or neither
                await services.team.update_provider(
                    practice_id, provider_id, actor=admin.actor, **values
                )
                if edit:
                    await services.staff_admin.update_staff(
                        practice_id, view.user.id, edit, actor=admin.actor
                    )
        except NotFound:
            raise NotFoundException("There is no such provider.") from None
        except DomainError as error:
            errors = {error.field or "npi": error.detail}
            return await self._detail(
                request, services, admin, provider_id, errors=errors, values=values
            )
        return redirect(f"/console/providers/{provider_id}?notice=saved")

    @post("/{provider_id:uuid}/remove")
    async def remove(
        self,
        provider_id: FromPath[UUID],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        try:
            await services.team.remove_provider(admin.practice.id, provider_id, actor=admin.actor)
        except NotFound:
            raise NotFoundException("There is no such provider.") from None
        return redirect("/console/providers?notice=removed")
