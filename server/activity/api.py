"""``GET /api/v1/practices/{practice_id}/scim/activity``: the activity log for scripts.

The same administrator API key as the rest of the management API (an administrator of
another practice gets 404). Filters: ``staff``, ``outcome``, ``operation``, ``since``,
``until``; pages of ``limit`` (1-1000, default 50), newest first, the next one named by
``next_cursor``. ``format=csv`` answers the same page as CSV (``limit`` up to 10,000), with
the next cursor in the ``X-Next-Cursor`` header.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from uuid import UUID  # noqa: TC003 - runtime: Litestar reads handler signatures

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ClientException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, QueryParameter

from server.activity.service import (
    MAX_EXPORT,
    MAX_PAGE,
    FilterError,
    as_csv,
    as_dict,
    parse_query,
    read_page,
)
from server.practices.api_errors import API_EXCEPTION_HANDLERS
from server.practices.controller import authenticated_admin
from server.services import Services  # noqa: TC001 - runtime, as above

__all__ = ["ActivityController", "ActivityItem", "ActivityPageBody"]


@dataclass(frozen=True, slots=True)
class ActivityItem:
    """One SCIM request: no body, token or secret; attribute names only."""

    id: str
    at: str
    outcome: Literal["succeeded", "refused"]
    operation: str
    method: str
    route: str
    status: int
    scim_type: str | None
    detail: str | None
    explanation: str | None
    resource_type: str | None
    resource_id: str | None
    resource_name: str | None
    attributes: list[str]
    credential: Literal["oauth", "static", "basic", "bearer", "none"]
    credential_label: str
    user_agent: str
    request_id: str


@dataclass(frozen=True, slots=True)
class ActivityPageBody:
    items: list[ActivityItem]
    #: pass as ``cursor`` for the next (older) page; null on the last page
    next_cursor: str | None


class ActivityController(Controller):
    path = "/api/v1/practices/{practice_id:uuid}/scim/activity"
    dependencies = {"actor": Provide(authenticated_admin)}  # noqa: RUF012
    tags = ["SCIM configuration"]  # noqa: RUF012
    exception_handlers = API_EXCEPTION_HANDLERS

    @get(
        "/",
        summary="The provisioning activity log, newest first (JSON or CSV)",
        responses={
            200: ResponseSpec(
                data_container=ActivityPageBody,
                description="A page of entries; with format=csv, text/csv of the same page",
            )
        },
    )
    async def activity(
        self,
        *,
        request: Request[Any, Any, Any],
        practice_id: FromPath[UUID],
        actor: NamedDependency[str],
        services: NamedDependency[Services],
        staff: Annotated[str | None, QueryParameter(description="A staff account's id")] = None,
        outcome: FromQuery[Literal["succeeded", "refused"] | None] = None,
        operation: Annotated[str | None, QueryParameter(description="e.g. user.create")] = None,
        since: Annotated[str | None, QueryParameter(description="ISO 8601, inclusive")] = None,
        until: Annotated[str | None, QueryParameter(description="ISO 8601, exclusive")] = None,
        cursor: Annotated[str | None, QueryParameter(description="next_cursor of a page")] = None,
        limit: Annotated[int, QueryParameter(description=f"1-{MAX_PAGE} (CSV: {MAX_EXPORT})")] = 50,
        format: FromQuery[Literal["json", "csv"]] = "json",
    ) -> Response[Any]:
        try:
            query = parse_query(
                staff=staff, outcome=outcome, operation=operation, since=since, until=until,
                cursor=cursor, limit=limit, most=MAX_EXPORT if format == "csv" else MAX_PAGE,
            )  # fmt: skip
        except FilterError as error:
            raise ClientException(str(error)) from None
        page = await read_page(request.app.state.activity_log, practice_id, query)
        if format == "csv":
            headers = {"Content-Disposition": 'attachment; filename="scim-activity.csv"'}
            if page.next_cursor:
                headers["X-Next-Cursor"] = page.next_cursor
            return Response(as_csv(page.entries), media_type="text/csv", headers=headers)
        body = {"items": [as_dict(e) for e in page.entries], "next_cursor": page.next_cursor}
        return Response(body)
