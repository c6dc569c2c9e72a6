"""Management API for staff: list, edit access level and locations, and (for accounts made
in the platform) the profile. Provisioned fields of SCIM accounts are refused with 409 and a
message naming the identity provider as their owner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, JSONBody

from server.domain.errors import DomainError, NotFound, ReadOnlyField, UniquenessConflict
from server.domain.staff_admin import Location, StaffView
from server.domain.user_attributes import idp_owned_fields
from server.practices.api_errors import API_EXCEPTION_HANDLERS
from server.practices.controller import authenticated_admin
from server.services import Services

__all__ = ["StaffController"]


class StaffEdit(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields sent are changed."""

    given_name: str | msgspec.UnsetType | None = msgspec.UNSET
    family_name: str | msgspec.UnsetType | None = msgspec.UNSET
    user_name: str | msgspec.UnsetType = msgspec.UNSET
    cell_phone: str | msgspec.UnsetType | None = msgspec.UNSET
    email: str | msgspec.UnsetType | None = msgspec.UNSET
    access_level: str | msgspec.UnsetType = msgspec.UNSET
    location_ids: list[UUID] | msgspec.UnsetType = msgspec.UNSET


class LocationCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: str


@dataclass(frozen=True, slots=True)
class StaffRecord:
    id: UUID
    user_name: str
    given_name: str | None
    family_name: str | None
    cell_phone: str | None
    email: str | None
    active: bool
    access_level: str
    access_level_label: str
    chart_access: bool
    scim_provisioned: bool
    read_only_fields: list[str]
    is_practice_admin: bool
    has_password: bool
    location_ids: list[UUID]


@dataclass(frozen=True, slots=True)
class LocationRecord:
    id: UUID
    name: str
    created_at: datetime


class ReadOnlyFieldError(ClientException):
    status_code = 409


def _record(view: StaffView) -> StaffRecord:
    user, profile = view.user, view.user.profile
    return StaffRecord(
        id=user.id,
        user_name=profile.user_name,
        given_name=profile.given_name,
        family_name=profile.family_name,
        cell_phone=profile.cell_phone,
        email=profile.email,
        active=profile.active,
        access_level=user.access_level.value,
        access_level_label=user.access_level.label,
        chart_access=user.access_level.chart_access,
        scim_provisioned=user.scim_provisioned,
        read_only_fields=list(idp_owned_fields()) if user.scim_provisioned else [],
        is_practice_admin=user.is_practice_admin,
        has_password=user.has_password,
        location_ids=list(view.location_ids),
    )


def _location(location: Location) -> LocationRecord:
    return LocationRecord(location.id, location.name, location.created_at)


def _translate(error: DomainError) -> Exception:
    if isinstance(error, NotFound):
        return NotFoundException(error.detail)
    if isinstance(error, ReadOnlyField):
        return ReadOnlyFieldError(error.detail)
    if isinstance(error, UniquenessConflict):
        return ReadOnlyFieldError(error.detail)
    return ClientException(error.detail)


class StaffController(Controller):
    path = "/api/v1/practices/{practice_id:uuid}"
    dependencies = {"actor": Provide(authenticated_admin)}  # noqa: RUF012
    tags = ["Staff"]  # noqa: RUF012
    exception_handlers = API_EXCEPTION_HANDLERS

    @get("/staff", summary="Every staff account of the practice")
    async def list_staff(
        self,
        practice_id: FromPath[UUID],
        actor: NamedDependency[str],
        services: NamedDependency[Services],
    ) -> list[StaffRecord]:
        return [_record(v) for v in await services.staff_admin.list_staff(practice_id)]

    @get("/staff/{staff_id:uuid}", summary="One staff account")
    async def get_staff(
        self,
        practice_id: FromPath[UUID],
        staff_id: FromPath[UUID],
        actor: NamedDependency[str],
        services: NamedDependency[Services],
    ) -> StaffRecord:
        try:
            return _record(await services.staff_admin.get_staff(practice_id, staff_id))
        except DomainError as error:
            raise _translate(error) from None

    @patch("/staff/{staff_id:uuid}", summary="Edit access level, locations or profile")
    async def edit_staff(
        self,
        practice_id: FromPath[UUID],
        staff_id: FromPath[UUID],
        actor: NamedDependency[str],
        services: NamedDependency[Services],
        data: JSONBody[StaffEdit],
    ) -> StaffRecord:
        edit: dict[str, Any] = {
            field: value
            for field in data.__struct_fields__
            if (value := getattr(data, field)) is not msgspec.UNSET
        }
        if "location_ids" in edit:
            edit["location_ids"] = [str(i) for i in edit["location_ids"]]
        try:
            view = await services.staff_admin.update_staff(practice_id, staff_id, edit, actor=actor)
        except DomainError as error:
            raise _translate(error) from None
        return _record(view)

    @get("/locations", summary="The practice's locations")
    async def list_locations(
        self,
        practice_id: FromPath[UUID],
        actor: NamedDependency[str],
        services: NamedDependency[Services],
    ) -> list[LocationRecord]:
        return [_location(loc) for loc in await services.staff_admin.list_locations(practice_id)]

    @post("/locations", status_code=201, summary="Add a location")
    async def create_location(
        self,
        practice_id: FromPath[UUID],
        actor: NamedDependency[str],
        services: NamedDependency[Services],
        data: JSONBody[LocationCreate],
    ) -> LocationRecord:
        try:
            location = await services.staff_admin.create_location(
                practice_id, data.name, actor=actor
            )
        except DomainError as error:
            raise _translate(error) from None
        return _location(location)
