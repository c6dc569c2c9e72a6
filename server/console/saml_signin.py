"""SAML endpoints of a practice: its SP metadata (served whatever the practice chose, so the
app can be registered at the IdP first) and the assertion consumer service (HTTP-POST).

The ACS is outside the console's CSRF guard: the identity provider posts to it cross-site.
What binds a response to this browser is the signed assertion's InResponseTo and the state
cookie (``SamlSignInService``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from server.console.sso_signin import STATE_COOKIE, refused_page, signed_in
from server.services import Services
from server.sso.service import SsoRefused

__all__ = ["SamlController"]


class SamlController(Controller):
    path = "/sso/{practice_id:uuid}/saml"
    include_in_schema = False

    @get("/metadata", media_type="application/samlmetadata+xml")
    async def metadata(
        self, practice_id: FromPath[UUID], services: NamedDependency[Services]
    ) -> Response[str]:
        if await services.store.practices.get(practice_id) is None:
            raise NotFoundException("There is no such practice.")
        return Response(
            await services.saml.metadata(practice_id),
            media_type="application/samlmetadata+xml",
            headers={"Cache-Control": "public, max-age=300"},
        )

    @post("/acs", status_code=303)
    async def acs(
        self,
        request: Request[Any, Any, Any],
        practice_id: FromPath[UUID],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        if await services.store.practices.get(practice_id) is None:
            raise NotFoundException("There is no such practice.")
        form = await request.form()
        try:
            session = await services.saml.finish(
                practice_id,
                saml_response=str(form.get("SAMLResponse") or ""),
                relay_state=str(form.get("RelayState") or ""),
                browser_state=request.cookies.get(STATE_COOKIE),
            )
        except SsoRefused as refused:
            return await refused_page(request, services, practice_id, refused.detail)
        return signed_in(services.settings, practice_id, session.token)
