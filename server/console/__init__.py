"""The practice console: server-rendered pages for practice administrators and staff."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, Response, Router
from litestar.exceptions import (
    HTTPException,
    NotFoundException,
    PermissionDeniedException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.static_files import create_static_files_router

from server.activity.console import ActivityPagesController
from server.console.account import AccountController
from server.console.audit import AuditPageController
from server.console.auth import (
    PRACTICE_COOKIE,
    CsrfRejected,
    NotAnAdministrator,
    NotSignedIn,
    csrf_guard,
)
from server.console.help import HelpController
from server.console.providers import ProvidersController
from server.console.recording import RecordingController
from server.console.render import STATIC_DIR, page, redirect
from server.console.scim_settings import ScimSettingsController
from server.console.signin import SignInController
from server.console.sso_settings import SsoSettingsController
from server.console.sso_signin import SsoController
from server.console.staff import StaffPagesController

if TYPE_CHECKING:
    from server.settings import Settings

__all__ = ["console_router"]

_TITLES = {
    400: "That request was not understood",
    403: "Not allowed",
    404: "Page not found",
    429: "Too many attempts",
}


def console_router(settings: Settings) -> Router:
    """Console and SSO pages, their static files, CSRF on every form, errors as HTML."""

    def not_signed_in(request: Request[Any, Any, Any], _: HTTPException) -> Response[Any]:
        practice = request.cookies.get(PRACTICE_COOKIE)
        return redirect(f"/console/{practice}/sign-in" if practice else "/console/sign-in")

    def error_page(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
        status = exc.status_code if exc.status_code in _TITLES else 400
        # A signed-in person keeps the practice's navigation and Sign out on a refusal.
        viewer = exc.viewer if isinstance(exc, NotAnAdministrator) else None
        message = exc.detail if isinstance(exc.detail, str) else _TITLES[status]
        if isinstance(exc, CsrfRejected):
            message = "This form has expired or did not come from this site. Reload the page."
        elif isinstance(exc, ValidationException):
            message = "Something in that request was not valid."
        return page(
            request,
            settings,
            "message.html",
            status_code=status,
            headers=exc.headers,
            title=_TITLES[status],
            message=message,
            viewer=viewer,
            back=request.url.path if status == 429 else None,  # only sign-in is limited
        )

    return Router(
        path="/",
        route_handlers=[
            SignInController,
            AccountController,
            ScimSettingsController,
            ActivityPagesController,
            RecordingController,
            AuditPageController,
            HelpController,
            SsoSettingsController,
            StaffPagesController,
            ProvidersController,
            SsoController,
            create_static_files_router(
                path="/console/static", directories=[STATIC_DIR], include_in_schema=False
            ),
        ],
        guards=[csrf_guard],
        exception_handlers={
            NotSignedIn: not_signed_in,
            CsrfRejected: error_page,
            PermissionDeniedException: error_page,
            NotFoundException: error_page,
            ValidationException: error_page,
            TooManyRequestsException: error_page,
        },
        include_in_schema=False,
    )
