"""The browser side of SSO: send the person to the identity provider, take them back in."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect

from server.console.render import HEADERS, cookie, expired, page, redirect, session_cookie
from server.domain.sso import SsoProtocol
from server.services import Services
from server.settings import Settings
from server.sso.service import SsoRefused

if TYPE_CHECKING:
    from litestar.datastructures import Cookie

__all__ = ["STATE_COOKIE", "SsoController", "refused_page", "signed_in", "state_cookie"]

STATE_COOKIE = "scimlab_sso"


async def refused_page(
    request: Request[Any, Any, Any], services: Services, practice_id: UUID, why: str
) -> Response[Any]:
    """The page a refused SSO sign-in ends on: why, and the way back (OIDC and SAML)."""
    practice = await services.store.practices.get(practice_id)
    return page(
        request,
        services.settings,
        "message.html",
        status_code=403,
        title="Sign-in refused",
        message=why,
        practice=practice,
        back=f"/console/{practice_id}/sign-in",
        cookies=[expired(services.settings, STATE_COOKIE, path=f"/sso/{practice_id}/")],
    )


def signed_in(settings: Settings, practice_id: UUID, session_token: str) -> Response[Any]:
    """Where an accepted SSO sign-in ends (OIDC and SAML): the console, with the new session
    and the sign-in state cleared."""
    return redirect(
        "/console",
        cookies=[
            session_cookie(settings, session_token),
            expired(settings, STATE_COOKIE, path=f"/sso/{practice_id}/"),
        ],
    )


def state_cookie(settings: Settings, practice_id: UUID, state: str, *, saml: bool) -> Cookie:
    """The browser's half of the sign-in state. SAML's response arrives as a cross-site POST,
    which a SameSite=Lax cookie would not follow: SameSite=None (with Secure) there."""
    made = cookie(settings, STATE_COOKIE, state, max_age=600, path=f"/sso/{practice_id}/")
    return replace(made, samesite="none") if saml and settings.cookie_secure else made


class SsoController(Controller):
    path = "/sso/{practice_id:uuid}"
    include_in_schema = False

    @get("/start")
    async def start(
        self,
        request: Request[Any, Any, Any],
        practice_id: FromPath[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        if await services.store.practices.get(practice_id) is None:
            raise NotFoundException("There is no such practice.")
        config = await services.sso_configs.get(practice_id)
        saml = config is not None and config.protocol is SsoProtocol.SAML
        try:
            if saml:
                started = await services.saml.start(practice_id)
            else:
                started = await services.sso.start(practice_id)
        except SsoRefused as refused:
            return await refused_page(request, services, practice_id, refused.detail)
        state = state_cookie(services.settings, practice_id, started.state, saml=saml)
        return Redirect(path=started.url, status_code=303, headers=HEADERS, cookies=[state])

    @get("/callback")
    async def callback(
        self,
        request: Request[Any, Any, Any],
        practice_id: FromPath[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        if await services.store.practices.get(practice_id) is None:
            raise NotFoundException("There is no such practice.")
        query = request.query_params
        try:
            session = await services.sso.finish(
                practice_id,
                state=query.get("state", ""),
                browser_state=request.cookies.get(STATE_COOKIE),
                code=query.get("code"),
                error=query.get("error"),
            )
        except SsoRefused as refused:
            return await refused_page(request, services, practice_id, refused.detail)
        return signed_in(services.settings, practice_id, session.token)
