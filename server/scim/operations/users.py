"""``/Users`` (RFC 7644 §3.3-§3.6): each operation parses with the right context, calls the
provisioning service and writes the answer. Every body carrying users, with or without a
selection of attributes, comes from one writer (``server.scim.user_bodies.user_bodies``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scim2_models import Context

from server.domain.provisioning import parse_user_id
from server.mapping.user_parse import parse_user_profile
from server.scim.operations.conditions import (
    check_if_none_match,
    if_match,
    linking_operation,
    not_modified,
    operation,
    selection,
    user_operation,
    user_search_operation,
    wants_minimal,
)
from server.scim.operations.exchange import json_answer, read_json_object
from server.scim.operations.paging import cursor_walk
from server.scim.query import list_parameters, search_parameters, user_name_lookup
from server.scim.resources import location, payload_answer, payload_list_answer
from server.scim.user_bodies import user_bodies
from server.scim.user_patch import patch_change

if TYPE_CHECKING:
    from uuid import UUID

    from server.domain.staff import StaffProfile, StaffUser
    from server.scim.operations.exchange import ScimAnswer, ScimRequest
    from server.scim.query import ListParameters
    from server.services import Services

__all__ = ["create", "delete", "patch", "read", "replace", "search", "search_by_post"]


async def _respond(
    services: Services,
    practice: UUID,
    staff: StaffUser,
    request: ScimRequest,
    *,
    status: int = 200,
    groups: list[tuple[UUID, str]] | None = None,
) -> ScimAnswer:
    if status == 200 and wants_minimal(request):
        return json_answer(None, status=204, headers=(("ETag", staff.etag),))
    created_at = location(services, practice, "Users", staff.id) if status == 201 else None
    # (A user created a moment ago is in no group yet.)
    page = [(staff, [] if groups is None else groups)]
    [payload] = user_bodies(services, practice, page, selection(request))
    return payload_answer(payload, etag=staff.etag, status=status, created_at=created_at)


async def _listing(services: Services, practice: UUID, parameters: ListParameters) -> ScimAnswer:
    user_name = user_name_lookup(parameters)
    if user_name is not None:  # one account at most, read as a read by id reads one
        found = await services.provisioning.find_with_groups(practice, user_name)
        payloads = user_bodies(services, practice, found, parameters.response)
        return payload_list_answer(total=len(found), offset=0, payloads=payloads)
    query, walk = await cursor_walk(services, practice, parameters, "Users")
    total, page = await services.provisioning.search_with_groups(practice, query)
    next_cursor = previous_cursor = None
    if walk is not None:
        groups_of = {user.id: groups for user, groups in page}
        shown = walk.page(total, [user for user, _ in page])
        page = [(user, groups_of[user.id]) for user in shown.rows]
        next_cursor, previous_cursor = shown.next_cursor, shown.previous_cursor
    return payload_list_answer(
        total=total,
        offset=query.offset,
        payloads=user_bodies(services, practice, page, parameters.response),
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
        cursor_paged=walk is not None,
    )


@user_operation
async def read(services: Services, practice: UUID, request: ScimRequest) -> ScimAnswer:
    """``GET /Users/{id}`` (RFC 7644 §3.4.1): the user with its groups."""
    user_id = parse_user_id(request.path_params["user_id"])
    staff, groups = await services.provisioning.get_with_groups(practice, user_id)
    unchanged = not_modified(request, staff.version, staff.etag)
    if unchanged is not None:
        return unchanged
    return await _respond(services, practice, staff, request, groups=groups)


@user_search_operation
async def search(services: Services, practice: UUID, request: ScimRequest) -> ScimAnswer:
    """``GET /Users`` (RFC 7644 §3.4.2): a page of users, filtered, sorted and paged."""
    parameters = list_parameters(request.query_params(), services.settings.max_page_size)
    return await _listing(services, practice, parameters)


@operation
async def search_by_post(services: Services, practice: UUID, request: ScimRequest) -> ScimAnswer:
    """``POST /Users/.search`` (RFC 7644 §3.4.3)."""
    body = read_json_object(request)
    parameters = search_parameters(body, services.settings.max_page_size)
    return await _listing(services, practice, parameters)


@linking_operation
async def create(services: Services, practice: UUID, request: ScimRequest) -> ScimAnswer:
    """``POST /Users`` (RFC 7644 §3.3)."""
    profile = parse_user_profile(read_json_object(request), Context.RESOURCE_CREATION_REQUEST)
    staff = await services.provisioning.create(practice, profile)
    return await _respond(services, practice, staff, request, status=201)


@user_operation
async def replace(services: Services, practice: UUID, request: ScimRequest) -> ScimAnswer:
    """``PUT /Users/{id}`` (RFC 7644 §3.5.1)."""
    body = read_json_object(request)
    profile = parse_user_profile(body, Context.RESOURCE_REPLACEMENT_REQUEST)
    target = parse_user_id(request.path_params["user_id"])

    def change(current: StaffUser) -> StaffProfile:
        check_if_none_match(request, current.version)
        return profile

    staff, groups = await services.provisioning.modify(
        practice, target, change, expected_versions=if_match(request)
    )
    return await _respond(services, practice, staff, request, groups=groups)


@user_operation
async def patch(services: Services, practice: UUID, request: ScimRequest) -> ScimAnswer:
    """``PATCH /Users/{id}`` (RFC 7644 §3.5.2)."""
    body = read_json_object(request)
    change = patch_change(body, lambda current: check_if_none_match(request, current.version))
    target = parse_user_id(request.path_params["user_id"])
    staff, groups = await services.provisioning.modify(
        practice, target, change, expected_versions=if_match(request)
    )
    return await _respond(services, practice, staff, request, groups=groups)


@operation
async def delete(services: Services, practice: UUID, request: ScimRequest) -> ScimAnswer:
    """``DELETE /Users/{id}`` (RFC 7644 §3.6)."""
    target = parse_user_id(request.path_params["user_id"])
    await services.provisioning.delete(practice, target, expected_versions=if_match(request))
    return json_answer(None, status=204)
