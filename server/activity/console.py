"""Settings → SCIM Provisioning → Activity: the activity log for a practice administrator.

Newest first, pages of 25 with an "Older" link (the API's cursor), filters by staff member,
outcome, operation and dates (``until`` names the last day shown); each row links to its
details, where a refused request says what was wrong in words. Downloads: CSV and JSON of
what the filters select (up to 10,000 entries).
"""

from __future__ import annotations

import contextlib
import json
from datetime import date, timedelta
from typing import Any
from uuid import UUID  # noqa: TC003 - runtime: Litestar reads handler signatures

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath  # noqa: TC002 - runtime, as above

from server.activity.records import OPERATIONS
from server.activity.service import MAX_EXPORT, FilterError, as_csv, as_dict, parse_query, read_page
from server.console.auth import Viewer, provide_admin, provide_viewer
from server.console.render import HEADERS, page
from server.services import Services  # noqa: TC001 - runtime, as above

__all__ = ["ActivityPagesController"]

PAGE_SIZE = 25
_FILTERS = ("staff", "outcome", "operation", "since", "until")


def _filters(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {name: request.query_params.get(name, "").strip() for name in _FILTERS}


def _query_args(filters: dict[str, str]) -> dict[str, Any]:
    """The console's dates are days: ``until`` is the last day shown, so the next one ends it."""
    args: dict[str, Any] = dict(filters)
    if len(args["until"]) == 10:
        with contextlib.suppress(ValueError):  # parse_query says what is wrong with it
            args["until"] = (date.fromisoformat(args["until"]) + timedelta(days=1)).isoformat()
    return args


async def _export(request: Request[Any, Any, Any], admin: Viewer, kind: str) -> Response[Any]:
    """What the filters select, newest first, up to 10,000 entries, as a download."""
    try:
        query = parse_query(**_query_args(_filters(request)), limit=MAX_EXPORT, most=MAX_EXPORT)
    except FilterError as problem:
        raise ValidationException(f"{problem}.") from None
    found = await read_page(request.app.state.activity_log, admin.practice.id, query)
    headers = {**HEADERS, "Content-Disposition": f'attachment; filename="scim-activity.{kind}"'}
    if kind == "csv":
        return Response(as_csv(found.entries), media_type="text/csv", headers=headers)
    body = json.dumps({"items": [as_dict(e) for e in found.entries]}, indent=2)
    return Response(body, media_type="application/json", headers=headers)


class ActivityPagesController(Controller):
    path = "/console/settings/scim/activity"
    include_in_schema = False
    dependencies = {  # noqa: RUF012
        "viewer": Provide(provide_viewer),
        "admin": Provide(provide_admin),
    }

    @get("/")
    async def list_page(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        filters = _filters(request)
        cursor = request.query_params.get("cursor") or None
        error = None
        try:
            query = parse_query(**_query_args(filters), cursor=cursor, limit=PAGE_SIZE)
            found = await read_page(request.app.state.activity_log, admin.practice.id, query)
            entries, next_cursor = found.entries, found.next_cursor
        except FilterError as problem:
            error, entries, next_cursor = f"{problem}.", [], None
        staff = await services.store.staff.list_all(admin.practice.id)
        people = sorted(
            ((str(s.id), f"{s.profile.given_name or ''} {s.profile.family_name or ''}".strip()
              or s.profile.user_name) for s in staff if s.scim_provisioned),
            key=lambda pair: pair[1].lower(),
        )  # fmt: skip
        shown = {k: v for k, v in filters.items() if v}
        return page(
            request,
            services.settings,
            "settings_scim_activity.html",
            status_code=400 if error else 200,
            viewer=admin,
            entries=entries,
            filters=filters,
            shown=shown,
            people=people,
            operations=OPERATIONS,
            next_cursor=next_cursor,
            first_page=cursor is None,
            error=error,
        )

    @get("/export.csv")
    async def export_csv(
        self, request: Request[Any, Any, Any], admin: NamedDependency[Viewer]
    ) -> Response[Any]:
        return await _export(request, admin, "csv")

    @get("/export.json")
    async def export_json(
        self, request: Request[Any, Any, Any], admin: NamedDependency[Viewer]
    ) -> Response[Any]:
        return await _export(request, admin, "json")

    @get("/{entry_id:uuid}")
    async def entry_page(
        self,
        request: Request[Any, Any, Any],
        entry_id: FromPath[UUID],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        entry = await request.app.state.activity_log.get(admin.practice.id, entry_id)
        if entry is None:
            raise NotFoundException("That activity entry does not exist in this practice.")
        return page(
            request,
            services.settings,
            "settings_scim_activity_entry.html",
            viewer=admin,
            entry=entry,
        )
