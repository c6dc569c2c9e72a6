"""``/Users`` (RFC 7644 §3.3-§3.6): parse with the right context, call the service, serialise."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from scim2_models import Context

from server.domain.provisioning import parse_user_id
from server.domain.staff import StaffProfile, StaffUser
from server.mapping.user_parse import parse_user_profile
from server.mapping.user_wire import user_payload
from server.scim.guard import authenticated_practice
from server.scim.query import (
    ListParameters,
    list_parameters,
    response_parameters,
    search_parameters,
)
from server.scim.requests import read_json_object
from server.scim.resources import (
    check_if_none_match,
    if_match,
    list_page,
    location,
    not_modified,
    payload_page,
    payload_response,
    resource_response,
    wants_minimal,
)
from server.scim.responses import scim_response
from server.scim.shortcuts import PlainCreate, PlainPatch, PlainRead, PlainSearch
from server.scim.user_bodies import ANY_USER, user_payloads, user_resources
from server.scim.user_patch import patch_change
from server.services import Services

__all__ = ["UsersController"]


async def _respond(
    services: Services,
    practice: UUID,
    staff: StaffUser,
    request: Request[Any, Any, Any],
    context: Context,
    *,
    status: int = 200,
    groups: list[tuple[UUID, str]] | None = None,
) -> Response[Any]:
    if status == 200 and wants_minimal(request):
        return scim_response(None, status=204, headers={"ETag": staff.etag})
    parameters = response_parameters(request)
    created_at = location(services, practice, "Users", staff.id) if status == 201 else None
    known = None if groups is None else {staff.id: groups}
    if parameters is None:
        if created_at is not None:  # a user created a moment ago is in no group yet
            payload = user_payload(staff, location=created_at)
        else:
            [payload] = await user_payloads(services, practice, [staff], known)
        return payload_response(payload, etag=staff.etag, status=status, created_at=created_at)
    [resource] = await user_resources(services, practice, [staff], known)
    return resource_response(
        resource,
        etag=staff.etag,
        context=context,
        parameters=parameters,
        status=status,
        created_at=created_at,
    )


async def _listing(services: Services, practice: UUID, parameters: ListParameters) -> Response[Any]:
    query = parameters.query
    total, users = await services.provisioning.search(practice, query)
    if parameters.response is None:
        payloads = await user_payloads(services, practice, users)
        return payload_page(total=total, offset=query.offset, payloads=payloads)
    return list_page(
        ANY_USER,
        total=total,
        offset=query.offset,
        resources=await user_resources(services, practice, users),
        parameters=parameters.response,
    )


class UsersController(Controller):
    path = "/scim/v2/{practice_id:uuid}/Users"
    dependencies = {"practice": Provide(authenticated_practice)}  # noqa: RUF012

    @post("/", status_code=201, middleware=[PlainCreate])
    async def create(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        body = await read_json_object(request)
        profile = parse_user_profile(body, Context.RESOURCE_CREATION_REQUEST)
        staff = await services.provisioning.create(practice, profile)
        return await _respond(
            services, practice, staff, request, Context.RESOURCE_CREATION_RESPONSE, status=201
        )

    @get("/", middleware=[PlainSearch])
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

    @get("/{user_id:str}", middleware=[PlainRead])
    async def read(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        user_id: FromPath[str],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        staff, groups = await services.provisioning.get_with_groups(
            practice, parse_user_id(user_id)
        )
        unchanged = not_modified(request, staff.version, staff.etag)
        if unchanged is not None:
            return unchanged
        return await _respond(
            services, practice, staff, request, Context.RESOURCE_QUERY_RESPONSE, groups=groups
        )

    @put("/{user_id:str}")
    async def replace(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        user_id: FromPath[str],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        body = await read_json_object(request)
        profile = parse_user_profile(body, Context.RESOURCE_REPLACEMENT_REQUEST)
        target = parse_user_id(user_id)

        def change(current: StaffUser) -> StaffProfile:
            check_if_none_match(request, current.version)
            return profile

        staff, groups = await services.provisioning.modify(
            practice, target, change, expected_versions=if_match(request)
        )
        return await _respond(
            services,
            practice,
            staff,
            request,
            Context.RESOURCE_REPLACEMENT_RESPONSE,
            groups=groups,
        )

    @patch("/{user_id:str}", middleware=[PlainPatch])
    async def modify(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        user_id: FromPath[str],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        body = await read_json_object(request)
        change = patch_change(body, lambda current: check_if_none_match(request, current.version))
        target = parse_user_id(user_id)

        staff, groups = await services.provisioning.modify(
            practice, target, change, expected_versions=if_match(request)
        )
        return await _respond(
            services, practice, staff, request, Context.RESOURCE_PATCH_RESPONSE, groups=groups
        )

    @delete("/{user_id:str}", status_code=204)
    async def remove(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        user_id: FromPath[str],
        services: NamedDependency[Services],
    ) -> None:
        await services.provisioning.delete(
            practice, parse_user_id(user_id), expected_versions=if_match(request)
        )
