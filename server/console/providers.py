"""Providers: "Add Provider" from an existing user (SCIM-provisioned staff included) or as a new
hand-made account, then the provider details (NPI, specialty)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide

from server.console.auth import Viewer, provide_admin, provide_viewer
from server.console.render import page, redirect
from server.console.staff import new_profile
from server.domain.errors import DomainError
from server.domain.staff import PROVISIONED_FIELDS, StaffProfile
from server.domain.team import SPECIALTIES
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
        added = request.query_params.get("notice") == "added"
        return page(
            request,
            services.settings,
            "providers.html",
            viewer=admin,
            providers=await services.team.providers(admin.practice.id),
            notice="The provider was added." if added else None,
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
            provisioned_fields=PROVISIONED_FIELDS,
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
