"""``/Groups`` (RFC 7644 §3.3-§3.6 for RFC 7643 §4.2 groups), one function per operation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scim2_models import Context, Group, ResponseParameters

from server.domain.groups import GroupProfile, GroupRecord, parse_group_id
from server.mapping.filters import GROUP_FILTERS
from server.mapping.groups import profile_from_scim_group, scim_from_group
from server.mapping.inbound import GROUP_PROFILE, accepted_resource
from server.mapping.schema import SCIM_POLICY, GroupModel
from server.scim.operations.conditions import (
    check_if_none_match,
    if_match,
    not_modified,
    operation,
    selection,
    wants_minimal,
)
from server.scim.operations.exchange import json_answer, read_json_object
from server.scim.operations.paging import cursor_walk
from server.scim.query import list_parameters, search_parameters
from server.scim.resources import list_answer, location, read_patch, resource_answer

if TYPE_CHECKING:
    from uuid import UUID

    from server.scim.operations.exchange import ScimAnswer, ScimRequest
    from server.scim.query import ListParameters
    from server.services import Services

__all__ = [
    "create",
    "delete",
    "group_resource",
    "patch",
    "read",
    "replace",
    "search",
    "search_by_post",
]


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
    request: ScimRequest,
    context: Context,
    *,
    status: int = 200,
    members: bool = True,
) -> ScimAnswer:
    if status == 200 and wants_minimal(request):
        return json_answer(None, status=204, headers=(("ETag", group.etag),))
    created_at = location(services, group.practice_id, "Groups", group.id)
    return resource_answer(
        group_resource(services, group, members=members),
        etag=group.etag,
        context=context,
        parameters=selection(request),
        status=status,
        created_at=created_at if status == 201 else None,
    )


async def _listing(services: Services, practice: UUID, parameters: ListParameters) -> ScimAnswer:
    members = _members_wanted(parameters.response)
    query, walk = await cursor_walk(services, practice, parameters, "Groups")
    total, groups = await services.groups.search(practice, query, with_members=members)
    next_cursor = previous_cursor = None
    if walk is not None:
        page = walk.page(total, groups)
        groups, next_cursor, previous_cursor = page.rows, page.next_cursor, page.previous_cursor
    return list_answer(
        Group,
        total=total,
        offset=query.offset,
        resources=[group_resource(services, g, members=members) for g in groups],
        parameters=parameters.response,
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
        cursor_paged=walk is not None,
    )


def _parse_group(body: dict[str, Any], context: Context) -> GroupProfile:
    resource = GroupModel.model_validate(
        accepted_resource(body, GROUP_PROFILE), scim_ctx=context, scim_policy=SCIM_POLICY
    )
    return profile_from_scim_group(resource)


@operation
async def create(services: Services, practice: UUID, request: ScimRequest) -> ScimAnswer:
    """``POST /Groups`` (RFC 7644 §3.3)."""
    profile = _parse_group(read_json_object(request), Context.RESOURCE_CREATION_REQUEST)
    group = await services.groups.create(practice, profile)
    return _respond(services, group, request, Context.RESOURCE_CREATION_RESPONSE, status=201)


@operation
async def search(services: Services, practice: UUID, request: ScimRequest) -> ScimAnswer:
    """``GET /Groups`` (RFC 7644 §3.4.2)."""
    size = services.settings.max_page_size
    parameters = list_parameters(request.query_params(), size, GROUP_FILTERS)
    return await _listing(services, practice, parameters)


@operation
async def search_by_post(services: Services, practice: UUID, request: ScimRequest) -> ScimAnswer:
    """``POST /Groups/.search`` (RFC 7644 §3.4.3)."""
    body = read_json_object(request)
    parameters = search_parameters(body, services.settings.max_page_size, GROUP_FILTERS)
    return await _listing(services, practice, parameters)


@operation
async def read(services: Services, practice: UUID, request: ScimRequest) -> ScimAnswer:
    """``GET /Groups/{id}`` (RFC 7644 §3.4.1); members only when the selection keeps them."""
    members = _members_wanted(selection(request))
    target = parse_group_id(request.path_params["group_id"])
    group = await services.groups.get(practice, target, with_members=members)
    unchanged = not_modified(request, group.version, group.etag)
    if unchanged is not None:
        return unchanged
    return resource_answer(
        group_resource(services, group, members=members),
        etag=group.etag,
        context=Context.RESOURCE_QUERY_RESPONSE,
        parameters=selection(request),
    )


@operation
async def replace(services: Services, practice: UUID, request: ScimRequest) -> ScimAnswer:
    """``PUT /Groups/{id}`` (RFC 7644 §3.5.1)."""
    profile = _parse_group(read_json_object(request), Context.RESOURCE_REPLACEMENT_REQUEST)

    def change(current: GroupRecord) -> GroupProfile:
        check_if_none_match(request, current.version)
        return profile

    target = parse_group_id(request.path_params["group_id"])
    group = await services.groups.modify(
        practice, target, change, expected_versions=if_match(request)
    )
    return _respond(services, group, request, Context.RESOURCE_REPLACEMENT_RESPONSE)


@operation
async def patch(services: Services, practice: UUID, request: ScimRequest) -> ScimAnswer:
    """``PATCH /Groups/{id}`` (RFC 7644 §3.5.2)."""
    operations = read_patch(read_json_object(request), GROUP_PROFILE, GroupModel)

    def change(current: GroupRecord) -> GroupProfile:
        check_if_none_match(request, current.version)
        if operations is None:
            return current.profile
        target = GroupModel.model_validate(
            group_resource(services, current).model_dump(scim_ctx=None)
        )
        operations.patch(target, scim_policy=SCIM_POLICY)
        return profile_from_scim_group(target)

    target = parse_group_id(request.path_params["group_id"])
    group = await services.groups.modify(
        practice, target, change, expected_versions=if_match(request)
    )
    return _respond(services, group, request, Context.RESOURCE_PATCH_RESPONSE)


@operation
async def delete(services: Services, practice: UUID, request: ScimRequest) -> ScimAnswer:
    """``DELETE /Groups/{id}`` (RFC 7644 §3.6)."""
    target = parse_group_id(request.path_params["group_id"])
    await services.groups.delete(practice, target, expected_versions=if_match(request))
    return json_answer(None, status=204)
