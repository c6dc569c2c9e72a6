"""The browser side of SSO: send the person to the identity provider, take them back in."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect

from server.console.render import HEADERS, cookie, expired, page, redirect, session_cookie
from server.services import Services
from server.sso.service import SsoRefused

__all__ = ["SsoController"]

STATE_COOKIE = "scimlab_sso"


class SsoController(Controller):
    path = "/sso/{practice_id:uuid}"
    include_in_schema = False

    async def _refused(
        self, request: Request[Any, Any, Any], services: Services, practice_id: UUID, why: str
    ) -> Response[Any]:
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

    @get("/start")
    async def start(
        self,
        request: Request[Any, Any, Any],
        practice_id: FromPath[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        if await services.store.practices.get(practice_id) is None:
            raise NotFoundException("There is no such practice.")
        try:
            started = await services.sso.start(practice_id)
        except SsoRefused as refused:
            return await self._refused(request, services, practice_id, refused.detail)
        state = cookie(
            services.settings, STATE_COOKIE, started.state, max_age=600, path=f"/sso/{practice_id}/"
        )
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
            return await self._refused(request, services, practice_id, refused.detail)
        settings = services.settings
        return redirect(
            "/console",
            cookies=[
                session_cookie(settings, session.token),
                expired(settings, STATE_COOKIE, path=f"/sso/{practice_id}/"),
            ],
        )
