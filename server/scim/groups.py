"""``/Groups`` (RFC 7644 §3.3-§3.6 for RFC 7643 §4.2 groups)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from scim2_models import Context, Group, ResponseParameters

from server.domain.groups import GroupProfile, GroupRecord, parse_group_id
from server.mapping.filters import GROUP_FILTERS
from server.mapping.groups import profile_from_scim_group, scim_from_group
from server.mapping.inbound import GROUP_PROFILE, accepted_resource
from server.mapping.schema import SCIM_POLICY, GroupModel
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
    read_patch,
    resource_response,
    wants_minimal,
)
from server.scim.responses import scim_response
from server.services import Services

__all__ = ["GroupsController", "group_resource"]


def _members_wanted(parameters: ResponseParameters[Any] | None) -> bool:
    """Skip loading members when the client excluded them (Entra's group lookups do)."""
    if parameters is None:
        return True
    excluded = {str(a).lower() for a in parameters.excluded_attributes or ()}
    if "members" in excluded:
        return False
    attributes = {str(a).lower().split(".")[0] for a in parameters.attributes or ()}
    return not attributes or "members" in attributes


def group_resource(services: Services, group: GroupRecord, *, members: bool = True) -> Group:
    practice = group.practice_id
    return scim_from_group(
        group,
        location=location(services, practice, "Groups", group.id),
        user_location=lambda uid: location(services, practice, "Users", uid),
        include_members=members,
    )


def _respond(
    services: Services,
    group: GroupRecord,
    request: Request[Any, Any, Any],
    context: Context,
    *,
    status: int = 200,
) -> Response[Any]:
    if status == 200 and wants_minimal(request):
        return scim_response(None, status=204, headers={"ETag": group.etag})
    return resource_response(
        group_resource(services, group),
        etag=group.etag,
        context=context,
        parameters=response_parameters(request),
        status=status,
        created_at=location(services, group.practice_id, "Groups", group.id)
        if status == 201
        else None,
    )


async def _listing(services: Services, practice: UUID, parameters: ListParameters) -> Response[Any]:
    members = _members_wanted(parameters.response)
    total, groups = await services.groups.search(practice, parameters.query, with_members=members)
    return list_page(
        Group,
        total=total,
        offset=parameters.query.offset,
        resources=[group_resource(services, g, members=members) for g in groups],
        parameters=parameters.response,
    )


def _parse_group(body: dict[str, Any], context: Context) -> GroupProfile:
    resource = GroupModel.model_validate(
        accepted_resource(body, GROUP_PROFILE), scim_ctx=context, scim_policy=SCIM_POLICY
    )
    return profile_from_scim_group(resource)


class GroupsController(Controller):
    path = "/scim/v2/{practice_id:uuid}/Groups"
    dependencies = {"practice": Provide(authenticated_practice)}  # noqa: RUF012

    @post("/", status_code=201)
    async def create(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        profile = _parse_group(await read_json_object(request), Context.RESOURCE_CREATION_REQUEST)
        group = await services.groups.create(practice, profile)
        return _respond(services, group, request, Context.RESOURCE_CREATION_RESPONSE, status=201)

    @get("/")
    async def search(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        parameters = list_parameters(request, services.settings.max_page_size, GROUP_FILTERS)
        return await _listing(services, practice, parameters)

    @post("/.search", status_code=200)
    async def search_by_post(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        body = await read_json_object(request)
        parameters = search_parameters(body, services.settings.max_page_size, GROUP_FILTERS)
        return await _listing(services, practice, parameters)

    @get("/{group_id:str}")
    async def read(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        group_id: FromPath[str],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        members = _members_wanted(response_parameters(request))
        group = await services.groups.get(practice, parse_group_id(group_id), with_members=members)
        unchanged = not_modified(request, group.version, group.etag)
        if unchanged is not None:
            return unchanged
        return resource_response(
            group_resource(services, group, members=members),
            etag=group.etag,
            context=Context.RESOURCE_QUERY_RESPONSE,
            parameters=response_parameters(request),
        )

    @put("/{group_id:str}")
    async def replace(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        group_id: FromPath[str],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        body = await read_json_object(request)
        profile = _parse_group(body, Context.RESOURCE_REPLACEMENT_REQUEST)

        def change(current: GroupRecord) -> GroupProfile:
            check_if_none_match(request, current.version)
            return profile

        group = await services.groups.modify(
            practice, parse_group_id(group_id), change, expected_versions=if_match(request)
        )
        return _respond(services, group, request, Context.RESOURCE_REPLACEMENT_RESPONSE)

    @patch("/{group_id:str}")
    async def modify(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        group_id: FromPath[str],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        operations = read_patch(await read_json_object(request), GROUP_PROFILE, GroupModel)

        def change(current: GroupRecord) -> GroupProfile:
            check_if_none_match(request, current.version)
            if operations is None:
                return current.profile
            target = GroupModel.model_validate(
                group_resource(services, current).model_dump(scim_ctx=None)
            )
            operations.patch(target, scim_policy=SCIM_POLICY)
            return profile_from_scim_group(target)

        group = await services.groups.modify(
            practice, parse_group_id(group_id), change, expected_versions=if_match(request)
        )
        return _respond(services, group, request, Context.RESOURCE_PATCH_RESPONSE)

    @delete("/{group_id:str}", status_code=204)
    async def remove(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        group_id: FromPath[str],
        services: NamedDependency[Services],
    ) -> None:
        await services.groups.delete(
            practice, parse_group_id(group_id), expected_versions=if_match(request)
        )
