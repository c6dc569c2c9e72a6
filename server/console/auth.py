"""Who is looking at a console page, and the CSRF check every form post goes through."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler

from server.console.render import SESSION_COOKIE, csrf_candidates
from server.domain.practices import Practice
from server.domain.staff import StaffUser
from server.security import constant_time_equals
from server.services import Services

__all__ = [
    "PRACTICE_COOKIE",
    "CsrfRejected",
    "NotAnAdministrator",
    "NotSignedIn",
    "Viewer",
    "csrf_guard",
    "provide_admin",
    "provide_viewer",
]

PRACTICE_COOKIE = "scimlab_practice"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


class NotSignedIn(HTTPException):
    status_code = 401


class CsrfRejected(HTTPException):
    status_code = 403


class NotAnAdministrator(PermissionDeniedException):
    """A signed-in person on an administrators' page: the 403 page keeps their navigation."""

    def __init__(self, viewer: Viewer) -> None:
        super().__init__("Only practice administrators can open this page.")
        self.viewer = viewer


class Viewer:
    """The signed-in account, its practice and the session token the browser holds.

    A plain class, not a dataclass: Litestar would try to validate a dataclass dependency
    field by field against the domain's annotations."""

    __slots__ = ("practice", "session_token", "user")

    def __init__(self, user: StaffUser, practice: Practice, session_token: str) -> None:
        self.user = user
        self.practice = practice
        self.session_token = session_token

    @property
    def is_admin(self) -> bool:
        return self.user.is_practice_admin

    @property
    def actor(self) -> str:
        return f"console:{self.user.profile.user_name}"


async def provide_viewer(
    request: Request[Any, Any, Any], services: NamedDependency[Services]
) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE)
    user = await services.sign_in.session_user(token) if token else None
    practice = await services.store.practices.get(user.practice_id) if user else None
    if token is None or user is None or practice is None:
        raise NotSignedIn("sign in first")
    return Viewer(user, practice, token)


async def provide_admin(viewer: NamedDependency[Viewer]) -> Viewer:
    """Settings and staff pages are for practice administrators only (others get 403)."""
    if not viewer.is_admin:
        raise NotAnAdministrator(viewer)
    return viewer


async def csrf_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Every form post carries the browser's CSRF token (synchroniser token derived from the
    session, or a double-submit cookie before sign-in); anything else is refused."""
    if connection.scope.get("method", "GET") in _SAFE or not isinstance(connection, Request):
        return
    form = await connection.form()
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not sent:
        raise CsrfRejected("missing CSRF token")
    if not any(constant_time_equals(sent, expected) for expected in csrf_candidates(connection)):
        raise CsrfRejected("CSRF token does not match")
