"""Console sign-in pages: password, then an authenticator code (enrolling it the first time),
sign-out, and forgot-password (which never gives an SSO account a password)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import segno
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, TooManyRequestsException
from litestar.params import FromPath
from markupsafe import Markup

from server.console.auth import PRACTICE_COOKIE
from server.console.forms import FORM_NEEDS_CHANGE, field_errors
from server.console.render import SESSION_COOKIE, cookie, expired, page, redirect, session_cookie
from server.domain.errors import DomainError
from server.domain.practices import Practice
from server.domain.signin import AccountLocked, SignInRefused, TooManyAttempts
from server.services import Services

__all__ = ["SignInController"]

FLOW_COOKIE = "scimlab_signin"
#: Fixed notices a redirect may ask the sign-in page to show (never text from the URL).
NOTICES = {
    "expired": "This sign-in has expired. Enter your password again.",
    "password": "Your new password is set. Sign in with it.",
}


async def _practice(services: Services, practice_id: UUID) -> Practice:
    practice = await services.store.practices.get(practice_id)
    if practice is None:
        raise NotFoundException("There is no such practice.")
    return practice


def _address(request: Request[Any, Any, Any]) -> str:
    """The source address the sign-in rate limits are kept for."""
    return request.client.host if request.client else "unknown"


def _too_many(refused: TooManyAttempts) -> TooManyRequestsException:
    """The console's error page, 429 with ``Retry-After``."""
    return TooManyRequestsException(
        refused.detail, headers={"Retry-After": str(refused.retry_after)}
    )


def _qr_svg(uri: str) -> Markup:
    svg = segno.make(uri, error="m").svg_inline(scale=4, title="Authenticator QR code")
    return Markup(svg)  # noqa: S704 - segno's own SVG markup; the URI inside is escaped by segno


class SignInController(Controller):
    path = "/console"
    include_in_schema = False

    @get("/sign-in")
    async def choose_practice(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[Any]:
        raw = request.query_params.get("practice") or request.cookies.get(PRACTICE_COOKIE)
        try:
            practice_id = UUID((raw or "").strip())
        except ValueError:
            error = "Enter your practice ID." if request.query_params.get("practice") else None
            return page(request, services.settings, "choose_practice.html", error=error)
        return redirect(f"/console/{practice_id}/sign-in")

    @get("/{practice_id:uuid}/sign-in")
    async def sign_in_page(
        self,
        request: Request[Any, Any, Any],
        practice_id: FromPath[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        return await self._sign_in_page(request, services, practice_id)

    async def _sign_in_page(
        self,
        request: Request[Any, Any, Any],
        services: Services,
        practice_id: UUID,
        *,
        error: str | None = None,
        status_code: int = 200,
        user_name: str = "",
        cookies: list[Any] | None = None,
    ) -> Response[Any]:
        practice = await _practice(services, practice_id)
        sso = await services.sso_configs.get(practice_id)
        remember = cookie(services.settings, PRACTICE_COOKIE, str(practice_id), max_age=31536000)
        return page(
            request,
            services.settings,
            "sign_in.html",
            status_code=status_code,
            cookies=[remember, *(cookies or [])],
            practice=practice,
            sso_enabled=sso is not None,
            error=error,
            notice=NOTICES.get(request.query_params.get("notice", "")),
            user_name=user_name,
        )

    @post("/{practice_id:uuid}/sign-in")
    async def password(
        self,
        request: Request[Any, Any, Any],
        practice_id: FromPath[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        form = await request.form()
        user_name = str(form.get("user_name", ""))[:256]
        await _practice(services, practice_id)
        try:
            token = await services.sign_in.password_step(
                practice_id, user_name, str(form.get("password", "")), address=_address(request)
            )
        except TooManyAttempts as refused:
            raise _too_many(refused) from None
        except SignInRefused as refused:
            status = 423 if isinstance(refused, AccountLocked) else 401
            return await self._sign_in_page(
                request,
                services,
                practice_id,
                error=refused.detail,
                status_code=status,
                user_name=user_name,
            )
        flow = cookie(services.settings, FLOW_COOKIE, token, max_age=300, path="/console/")
        return redirect(f"/console/{practice_id}/sign-in/code", cookies=[flow])

    @get("/{practice_id:uuid}/sign-in/code")
    async def code_page(
        self,
        request: Request[Any, Any, Any],
        practice_id: FromPath[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        return await self._code_page(request, services, practice_id)

    async def _code_page(
        self,
        request: Request[Any, Any, Any],
        services: Services,
        practice_id: UUID,
        *,
        error: str | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        practice = await _practice(services, practice_id)
        token = request.cookies.get(FLOW_COOKIE, "")
        try:
            user, state = await services.sign_in.code_flow(token)
            enrollment = None
            if not state.totp_confirmed:
                enrollment = await services.sign_in.enrollment(token)
        except SignInRefused:
            return redirect(f"/console/{practice_id}/sign-in?notice=expired")
        return page(
            request,
            services.settings,
            "sign_in_code.html",
            status_code=status_code,
            practice=practice,
            user=user,
            enrollment=enrollment,
            qr=_qr_svg(enrollment.uri) if enrollment else None,
            error=error,
        )

    @post("/{practice_id:uuid}/sign-in/code")
    async def code(
        self,
        request: Request[Any, Any, Any],
        practice_id: FromPath[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        form = await request.form()
        token = request.cookies.get(FLOW_COOKIE, "")
        try:
            session = await services.sign_in.code_step(
                token, str(form.get("code", "")), address=_address(request)
            )
        except TooManyAttempts as refused:
            raise _too_many(refused) from None
        except AccountLocked as locked:
            ended = expired(services.settings, FLOW_COOKIE, path="/console/")
            return await self._sign_in_page(
                request,
                services,
                practice_id,
                error=locked.detail,
                status_code=423,
                cookies=[ended],
            )
        except SignInRefused as refused:
            return await self._code_page(
                request, services, practice_id, error=refused.detail, status_code=401
            )
        settings = services.settings
        return redirect(
            "/console",
            cookies=[
                session_cookie(settings, session.token),
                expired(settings, FLOW_COOKIE, path="/console/"),
            ],
        )

    @post("/sign-out")
    async def sign_out(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services]
    ) -> Response[Any]:
        if token := request.cookies.get(SESSION_COOKIE):
            await services.sign_in.sign_out(token)
        return redirect("/console/sign-in", cookies=[expired(services.settings, SESSION_COOKIE)])

    @get("/{practice_id:uuid}/forgot-password")
    async def forgot_page(
        self,
        request: Request[Any, Any, Any],
        practice_id: FromPath[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        practice = await _practice(services, practice_id)
        return page(request, services.settings, "forgot_password.html", practice=practice)

    @post("/{practice_id:uuid}/forgot-password")
    async def forgot(
        self,
        request: Request[Any, Any, Any],
        practice_id: FromPath[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        practice = await _practice(services, practice_id)
        form = await request.form()
        # Whatever the outcome, the page says the same: it must not tell who the identity
        # provider manages (the person is told by email instead).
        await services.password_reset.request(practice_id, str(form.get("user_name", "")))
        return page(
            request, services.settings, "forgot_password.html", practice=practice, sent=True
        )

    @get("/{practice_id:uuid}/reset-password")
    async def reset_page(
        self,
        request: Request[Any, Any, Any],
        practice_id: FromPath[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        practice = await _practice(services, practice_id)
        token = request.query_params.get("token", "")
        try:
            user = await services.password_reset.account_for(practice_id, token)
        except SignInRefused as refused:
            return page(
                request,
                services.settings,
                "message.html",
                status_code=400,
                title="Reset link not valid",
                message=refused.detail,
                practice=practice,
            )
        return page(
            request,
            services.settings,
            "reset_password.html",
            practice=practice,
            user=user,
            token=token,
        )

    @post("/{practice_id:uuid}/reset-password")
    async def reset(
        self,
        request: Request[Any, Any, Any],
        practice_id: FromPath[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        practice = await _practice(services, practice_id)
        form = await request.form()
        token = str(form.get("token", ""))
        try:
            await services.password_reset.complete(
                practice_id, token, str(form.get("password", ""))
            )
        except DomainError as error:
            errors = field_errors(error)
            return page(
                request,
                services.settings,
                "reset_password.html",
                status_code=400,
                practice=practice,
                token=token,
                error=FORM_NEEDS_CHANGE if errors else error.detail,
                errors=errors,
            )
        return redirect(f"/console/{practice_id}/sign-in?notice=password")
