"""``POST /.search`` at the service root (RFC 7644 §3.4.3): Users, then Groups.

A filter naming an attribute only one resource type declares matches nothing of the other
type (RFC 7644 §3.4.2.1); it is an error only when neither declares it. Pages run over
the users first and then the groups, each in its own stable order.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency, Provide
from scim2_models import Group, SCIMException, User

from server.domain.query import Constant
from server.mapping.filters import GROUP_FILTERS, USER_FILTERS
from server.scim.adapter import to_response
from server.scim.guard import authenticated_practice
from server.scim.operations.exchange import (
    ScimRequestError,
    read_json_object,
    request_from_scope,
)
from server.scim.operations.groups import group_resource
from server.scim.query import ListParameters, search_parameters
from server.scim.resources import list_answer
from server.scim.user_bodies import user_resources
from server.services import Services

__all__ = ["RootSearchController"]


def _per_type(body: dict[str, Any], services: Services) -> tuple[ListParameters, ListParameters]:
    size = services.settings.max_page_size
    attempts: list[ListParameters | SCIMException] = []
    for schema in (USER_FILTERS, GROUP_FILTERS):
        try:
            attempts.append(search_parameters(body, size, schema))
        except SCIMException as error:
            attempts.append(error)
    users, groups = attempts
    if isinstance(users, SCIMException) and isinstance(groups, SCIMException):
        raise users
    if body.get("cursor") is not None:
        # RFC 9865 cursors page one resource type (/Users, /Groups), not this union.
        msg = "cursor paging is offered on /Users and /Groups, not on the root .search"
        raise ScimRequestError(400, msg, "invalidValue")
    if isinstance(users, SCIMException):
        assert isinstance(groups, ListParameters)
        users = replace(groups, query=replace(groups.query, predicate=Constant(value=False)))
    if isinstance(groups, SCIMException):
        groups = replace(users, query=replace(users.query, predicate=Constant(value=False)))
    return users, groups


class RootSearchController(Controller):
    path = "/scim/v2/{practice_id:uuid}"
    dependencies = {"practice": Provide(authenticated_practice)}  # noqa: RUF012

    @post("/.search", status_code=200)
    async def search(
        self,
        request: Request[Any, Any, Any],
        practice: NamedDependency[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        body = read_json_object(request_from_scope(request.scope, await request.body()))
        users_query, groups_query = _per_type(body, services)
        offset, limit = users_query.query.offset, users_query.query.limit
        user_total, users = await services.provisioning.search(practice, users_query.query)
        group_offset = max(offset - user_total, 0)
        group_limit = max(limit - len(users), 0)
        group_total, groups = await services.groups.search(
            practice, replace(groups_query.query, offset=group_offset, limit=group_limit)
        )
        resources: list[Any] = [
            *await user_resources(services, practice, users),
            *(group_resource(services, g) for g in groups),
        ]
        answer = list_answer(
            User[Any] | Group,
            total=user_total + group_total,
            offset=offset,
            resources=resources,
            parameters=users_query.response,
        )
        return to_response(answer)
