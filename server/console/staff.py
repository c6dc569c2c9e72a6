"""Location & Staff Management: every account (SCIM-provisioned ones marked), locations and
access levels; the fields an identity provider owns are shown but disabled."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from server.console.auth import Viewer, provide_admin, provide_viewer
from server.console.forms import FORM_NEEDS_CHANGE, field_errors
from server.console.render import page, redirect
from server.domain.errors import DomainError, NotFound, UniquenessConflict
from server.domain.staff import AccessLevel, StaffProfile
from server.domain.user_attributes import idp_owned_fields
from server.mapping.emails import normalized_email
from server.services import Services

__all__ = [
    "PROFILE_FIELDS",
    "StaffPagesController",
    "email_errors",
    "new_profile",
    "profile_edit",
    "profile_errors",
]

NOTICES = {
    "saved": "The staff member was saved.",
    "staff_added": "The staff member was added. They set a password with “Forgot password”.",
    "location_added": "The location was added.",
    "granted": "The administrator role was given.",
    "revoked": "The administrator role was removed.",
}
USER_NAME_TAKEN = "This username is already taken in this practice."
PROFILE_FIELDS = ("given_name", "family_name", "user_name", "cell_phone", "email")


def profile_edit(form: FormMultiDict, *, provisioned: bool) -> dict[str, Any]:
    """The profile fields a form may change: never the provisioned ones of a SCIM account
    (their inputs are disabled, and anything sent for them anyway is ignored)."""
    edit: dict[str, Any] = {}
    for field in PROFILE_FIELDS:
        if field not in form or (provisioned and field in idp_owned_fields()):
            continue
        value = str(form.get(field, "")).strip()
        edit[field] = value or None
    if "user_name" in edit and not edit["user_name"]:
        edit.pop("user_name")
    return edit


def email_errors(values: Mapping[str, str]) -> dict[str, str]:
    """The error beside an email address typed in a profile form that is not one."""
    email = values.get("email", "").strip()
    try:
        if email:
            normalized_email(email)
    except ValueError:
        return {"email": "Enter an email address like name@example.org."}
    return {}


def profile_errors(error: DomainError) -> dict[str, str]:
    """The errors beside a profile form's fields for a refused save (none when the error is
    about no field: the page says it at the top)."""
    if isinstance(error, UniquenessConflict):
        return {"user_name": USER_NAME_TAKEN}
    return field_errors(error)


def new_profile(values: Mapping[str, Any]) -> StaffProfile:
    """The profile of an account made by hand, from a form."""

    def text(key: str) -> str | None:
        return str(values.get(key, "")).strip() or None

    return StaffProfile(
        user_name=text("user_name") or "",
        given_name=text("given_name"),
        family_name=text("family_name"),
        cell_phone=text("cell_phone"),
        email=text("email"),
    )


class StaffPagesController(Controller):
    path = "/console"
    include_in_schema = False
    dependencies = {  # noqa: RUF012
        "viewer": Provide(provide_viewer),
        "admin": Provide(provide_admin),
    }

    @get("/staff")
    async def list_staff(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        return await self._list(request, services, admin)

    async def _list(
        self,
        request: Request[Any, Any, Any],
        services: Services,
        admin: Viewer,
        *,
        staff_errors: dict[str, str] | None = None,
        location_errors: dict[str, str] | None = None,
        values: Mapping[str, str] | None = None,
    ) -> Response[Any]:
        practice_id = admin.practice.id
        locations = await services.staff_admin.list_locations(practice_id)
        failed = bool(staff_errors or location_errors)
        return page(
            request,
            services.settings,
            "staff_list.html",
            status_code=400 if failed else 200,
            viewer=admin,
            staff=await services.staff_admin.list_staff(practice_id),
            location_names={loc.id: loc.name for loc in locations},
            notice=NOTICES.get(request.query_params.get("notice", "")),
            error=FORM_NEEDS_CHANGE if failed else None,
            staff_errors=staff_errors or {},
            location_errors=location_errors or {},
            values=values or {},
        )

    @post("/staff")
    async def add_staff(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        form = await request.form()
        values = {key: str(form.get(key, "")) for key in PROFILE_FIELDS}
        errors = email_errors(values)
        if not errors:
            try:
                await services.team.add_staff(
                    admin.practice.id, new_profile(form), actor=admin.actor
                )
                return redirect("/console/staff?notice=staff_added")
            except DomainError as error:
                errors = profile_errors(error) or {"user_name": error.detail}
        return await self._list(request, services, admin, staff_errors=errors, values=values)

    @post("/locations")
    async def add_location(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        form = await request.form()
        name = str(form.get("name", ""))
        try:
            await services.staff_admin.create_location(admin.practice.id, name, actor=admin.actor)
        except DomainError as error:
            errors = field_errors(error, fallback="name")
            return await self._list(
                request, services, admin, location_errors=errors, values={"name": name}
            )
        return redirect("/console/staff?notice=location_added")

    @get("/staff/{staff_id:uuid}")
    async def edit_page(
        self,
        request: Request[Any, Any, Any],
        staff_id: FromPath[UUID],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        return await self._edit(request, services, admin, staff_id)

    async def _edit(
        self,
        request: Request[Any, Any, Any],
        services: Services,
        admin: Viewer,
        staff_id: UUID,
        *,
        error: str | None = None,
    ) -> Response[Any]:
        try:
            view = await services.staff_admin.get_staff(admin.practice.id, staff_id)
        except NotFound:
            raise NotFoundException("There is no such staff member.") from None
        return page(
            request,
            services.settings,
            "staff_edit.html",
            status_code=400 if error else 200,
            viewer=admin,
            view=view,
            locations=await services.staff_admin.list_locations(admin.practice.id),
            levels=list(AccessLevel),
            locked=idp_owned_fields() if view.user.scim_provisioned else (),
            notice=NOTICES.get(request.query_params.get("notice", "")),
            error=error,
        )

    @post("/staff/{staff_id:uuid}")
    async def save(
        self,
        request: Request[Any, Any, Any],
        staff_id: FromPath[UUID],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        form = await request.form()
        try:
            view = await services.staff_admin.get_staff(admin.practice.id, staff_id)
        except NotFound:
            raise NotFoundException("There is no such staff member.") from None
        edit = profile_edit(form, provisioned=view.user.scim_provisioned)
        edit["access_level"] = str(form.get("access_level", view.user.access_level.value))
        edit["location_ids"] = [str(v) for v in form.getall("location_ids", [])]
        try:
            await services.staff_admin.update_staff(
                admin.practice.id, staff_id, edit, actor=admin.actor
            )
        except DomainError as error:
            return await self._edit(request, services, admin, staff_id, error=error.detail)
        return redirect("/console/staff?notice=saved")

    @post("/staff/{staff_id:uuid}/administrator")
    async def set_administrator(
        self,
        request: Request[Any, Any, Any],
        staff_id: FromPath[UUID],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        form = await request.form()
        grant = str(form.get("role", "")) == "grant"
        try:
            await services.staff_admin.set_administrator(
                admin.practice.id, staff_id, admin=grant, actor=admin.actor
            )
        except NotFound:
            raise NotFoundException("There is no such staff member.") from None
        except DomainError as error:
            return await self._edit(request, services, admin, staff_id, error=error.detail)
        if not grant and staff_id == admin.user.id:
            return redirect("/console/account")  # no longer allowed on the staff pages
        return redirect(f"/console/staff/{staff_id}?notice={'granted' if grant else 'revoked'}")
