"""``/Users`` (RFC 7644 §3.3-§3.6): parse with the right context, call the service, serialise."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from scim2_models import Context, ListResponse, PatchOp, User

from server.domain.provisioning import parse_user_id
from server.domain.staff import StaffProfile, StaffUser
from server.mapping.schema import SCIM_POLICY, UserModel
from server.mapping.users import profile_from_scim, scim_from_staff
from server.scim.guard import authenticated_practice
from server.scim.query import (
    ListParameters,
    list_parameters,
    response_parameters,
    search_parameters,
)
from server.scim.requests import if_match_version, read_json_object
from server.scim.responses import scim_response
from server.services import Services

__all__ = ["UsersController"]


def _location(services: NamedDependency[Services], staff: StaffUser) -> str:
    return f"{services.settings.scim_base_url(str(staff.practice_id))}/Users/{staff.id}"


def _dump(
    services: NamedDependency[Services],
    staff: StaffUser,
    request: Request[Any, Any, Any],
    context: Context,
) -> dict[str, Any]:
    resource = scim_from_staff(staff, location=_location(services, staff))
    return resource.model_dump(scim_ctx=context, response_parameters=response_parameters(request))


def _resource_response(
    services: NamedDependency[Services],
    staff: StaffUser,
    request: Request[Any, Any, Any],
    context: Context,
    *,
    status: int = 200,
) -> Response[Any]:
    headers = {"ETag": staff.etag}
    if status == 201:
        headers["Location"] = _location(services, staff)
    return scim_response(_dump(services, staff, request, context), status=status, headers=headers)


async def _listing(services: Services, practice: UUID, parameters: ListParameters) -> Response[Any]:
    """A ListResponse page (RFC 7644 §3.4.2), integer counters and 1-based startIndex."""
    query = parameters.query
    total, users = await services.provisioning.list(practice, query)
    listing = ListResponse[User[Any]](
        total_results=total,
        start_index=query.offset + 1,
        items_per_page=len(users),
        resources=[scim_from_staff(u, location=_location(services, u)) for u in users],
    )
    payload = listing.model_dump(
        scim_ctx=Context.SEARCH_RESPONSE, response_parameters=parameters.response
    )
    return scim_response(payload)


class UsersController(Controller):
    path = "/scim/v2/{practice_id:uuid}/Users"
    dependencies = {"practice": Provide(authenticated_practice)}  # noqa: RUF012

    @post("/", status_code=201)
    async def create(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        body = await read_json_object(request)
        resource = UserModel.model_validate(
            body, scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_policy=SCIM_POLICY
        )
        staff = await services.provisioning.create(practice, profile_from_scim(resource))
        return _resource_response(
            services, staff, request, Context.RESOURCE_CREATION_RESPONSE, status=201
        )

    @get("/")
    async def search(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        parameters = list_parameters(request, services.settings.max_page_size)
        return await _listing(services, practice, parameters)

    @post("/.search", status_code=200)
    async def search_by_post(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        body = await read_json_object(request)
        parameters = search_parameters(body, services.settings.max_page_size)
        return await _listing(services, practice, parameters)

    @get("/{user_id:str}")
    async def read(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        user_id: FromPath[str],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        staff = await services.provisioning.get(practice, parse_user_id(user_id))
        return _resource_response(services, staff, request, Context.RESOURCE_QUERY_RESPONSE)

    @put("/{user_id:str}")
    async def replace(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        user_id: FromPath[str],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        body = await read_json_object(request)
        resource = UserModel.model_validate(
            body, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST, scim_policy=SCIM_POLICY
        )
        profile = profile_from_scim(resource)
        staff = await services.provisioning.modify(
            practice,
            parse_user_id(user_id),
            lambda _current: profile,
            expected_version=if_match_version(request.headers.get("if-match")),
        )
        return _resource_response(services, staff, request, Context.RESOURCE_REPLACEMENT_RESPONSE)

    @patch("/{user_id:str}")
    async def modify(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        user_id: FromPath[str],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        body = await read_json_object(request)
        operations = PatchOp[UserModel].model_validate(
            body, scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=SCIM_POLICY
        )

        def apply(current: StaffUser) -> StaffProfile:
            resource = scim_from_staff(current, location=_location(services, current))
            target = UserModel.model_validate(resource.model_dump(scim_ctx=None))
            operations.patch(target, scim_policy=SCIM_POLICY)
            return profile_from_scim(target)

        staff = await services.provisioning.modify(
            practice,
            parse_user_id(user_id),
            apply,
            expected_version=if_match_version(request.headers.get("if-match")),
        )
        return _resource_response(services, staff, request, Context.RESOURCE_PATCH_RESPONSE)

    @delete("/{user_id:str}", status_code=204)
    async def remove(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        user_id: FromPath[str],
        services: NamedDependency[Services],
    ) -> None:
        await services.provisioning.delete(
            practice,
            parse_user_id(user_id),
            expected_version=if_match_version(request.headers.get("if-match")),
        )
