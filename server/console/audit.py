"""Settings → Audit log: every entry in words, filtered by what happened, who acted, the
staff member concerned and a date range, a page at a time (newest first)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide

from server.console.audit_view import ACTOR_FILTERS, KIND_FILTERS, AuditLine, describe
from server.console.auth import Viewer, provide_admin, provide_viewer
from server.console.render import page
from server.domain.practices import AuditFilter
from server.services import Services

if TYPE_CHECKING:
    from server.domain.staff import StaffUser

__all__ = ["AuditPageController", "audit_lines"]

PAGE_SIZE = 25


def _zone(name: str) -> tzinfo:
    """The administrator's time zone, as their browser names it (console.js puts it in the
    form: the zone it shows the times in); UTC when none or an unknown one is given."""
    try:
        return ZoneInfo(name) if name and len(name) <= 64 else UTC
    except (ZoneInfoNotFoundError, ValueError, OSError):  # unknown, malformed, a folder
        return UTC


def _day(raw: str, zone: tzinfo, *, days: int = 0) -> datetime | None:
    """When the day ``raw`` (plus ``days``) starts in ``zone``, as a UTC time."""
    try:
        day = date.fromisoformat(raw) + timedelta(days=days)
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    except (ValueError, OverflowError):  # not a date, or past the calendar's ends
        return None


def _staff_id(raw: str) -> UUID | None:
    try:
        return UUID(raw)
    except ValueError:
        return None


async def audit_lines(
    services: Services, admin: Viewer, *, limit: int, offset: int = 0, where: AuditFilter | None
) -> tuple[list[AuditLine], list[StaffUser]]:
    """A page of entries in words, and the practice's staff (for names and the filter)."""
    practice_id = admin.practice.id
    entries = await services.practices.audit_log(
        practice_id, limit=limit, offset=offset, where=where
    )
    staff = [view.user for view in await services.staff_admin.list_staff(practice_id)]
    by_id = {user.id: user for user in staff}
    by_name = {user.profile.user_name.casefold(): user for user in staff}
    lines = [describe(e, by_id, by_name, viewer_id=admin.user.id) for e in entries]
    return lines, staff


class AuditPageController(Controller):
    path = "/console/settings/audit"
    include_in_schema = False
    dependencies = {  # noqa: RUF012
        "viewer": Provide(provide_viewer),
        "admin": Provide(provide_admin),
    }

    @get("/")
    async def show(
        self,
        request: Request[Any, Any, Any],
        admin: NamedDependency[Viewer],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        query = request.query_params
        chosen = {key: str(query.get(key, "")) for key in ("what", "who", "staff", "from", "to")}
        zone = _zone(str(query.get("tz", "")))
        try:
            number = max(1, min(int(query.get("page", "1")), 10_000))
        except ValueError:
            number = 1
        where = AuditFilter(
            action_prefixes=KIND_FILTERS.get(chosen["what"], ("", ()))[1],
            actor_prefix=ACTOR_FILTERS.get(chosen["who"], ("", None))[1],
            staff_id=_staff_id(chosen["staff"]),
            since=_day(chosen["from"], zone),
            until=_day(chosen["to"], zone, days=1),
        )
        lines, staff = await audit_lines(
            services, admin, limit=PAGE_SIZE + 1, offset=(number - 1) * PAGE_SIZE, where=where
        )
        kept = {key: value for key, value in chosen.items() if value}
        in_zone = {"tz": str(zone)} if zone is not UTC else {}

        def link(to: int) -> str:
            query = urlencode({**kept, **in_zone, "page": to})
            return f"/console/settings/audit?{query}#entries"

        return page(
            request,
            services.settings,
            "settings_audit.html",
            viewer=admin,
            lines=lines[:PAGE_SIZE],
            chosen=chosen,
            filtered=bool(kept),
            kinds=KIND_FILTERS,
            actors=ACTOR_FILTERS,
            staff=sorted(staff, key=lambda u: (u.profile.family_name or "", u.profile.user_name)),
            page_number=number,
            newer=link(number - 1) if number > 1 else None,
            older=link(number + 1) if len(lines) > PAGE_SIZE else None,
        )
