"""Discovery (RFC 7644 §4): what this server supports, stated truthfully."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    ETag,
    Filter,
    Meta,
    Patch,
    ServiceProviderConfig,
    Sort,
)

from server.scim.guard import authenticated_practice
from server.scim.responses import scim_response
from server.services import Services

__all__ = ["DiscoveryController", "service_provider_config"]


def service_provider_config(
    services: NamedDependency[Services], practice_id: FromPath[UUID]
) -> ServiceProviderConfig:
    base = services.settings.scim_base_url(str(practice_id))
    return ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=services.settings.max_page_size),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=True),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="OAuth Bearer Token",
                description=(
                    "Bearer token from the OAuth 2.0 client credentials grant at "
                    f"{services.settings.token_url}, or a static token issued by an administrator"
                ),
                spec_uri="https://www.rfc-editor.org/info/rfc6750",
                primary=True,
            ),
            AuthenticationScheme(
                type="httpbasic",
                name="HTTP Basic",
                description="HTTP Basic with the SCIM client id and client secret",
                spec_uri="https://www.rfc-editor.org/info/rfc7617",
            ),
        ],
        meta=Meta(resource_type="ServiceProviderConfig", location=f"{base}/ServiceProviderConfig"),
    )


class DiscoveryController(Controller):
    path = "/scim/v2/{practice_id:uuid}"
    dependencies = {"practice": Provide(authenticated_practice)}  # noqa: RUF012

    @get("/ServiceProviderConfig")
    async def service_provider_config(
        self, practice: NamedDependency[UUID], services: NamedDependency[Services]
    ) -> Response[Any]:
        config = service_provider_config(services, practice)
        return scim_response(config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
