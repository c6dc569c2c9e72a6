"""Discovery (RFC 7644 §4): what this server supports and keeps, stated truthfully.

``/Schemas`` lists only the attributes the platform keeps, so clients and conformance tools
can tell that everything else is ignored.
"""

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
    Group,
    ListResponse,
    Meta,
    Pagination,
    Patch,
    ResourceType,
    Schema,
    ServiceProviderConfig,
    Sort,
    User,
)

from server.domain.errors import NotFound
from server.domain.user_attributes import USER_ATTRIBUTES, Carrier, UserAttribute
from server.scim.cursors import CURSOR_TIMEOUT_SECONDS
from server.scim.guard import authenticated_practice
from server.scim.query import DEFAULT_PAGE_SIZE
from server.scim.responses import scim_response
from server.services import Services

__all__ = ["DiscoveryController", "kept_schemas", "service_provider_config"]

Kept = dict[str, set[str] | None]
_GROUP_KEPT: Kept = {"displayName": None, "members": {"value", "$ref", "type"}}


def _user_kept(attributes: tuple[UserAttribute, ...]) -> tuple[Kept, dict[Any, list[str]]]:
    """Top-level attribute -> kept sub-attributes (None: simple attribute), from the table of
    kept attributes; and the one value a kept sub-attribute can take (only one element of a
    multi-valued attribute is kept: the work email, the mobile number)."""
    kept: Kept = {"groups": {"value", "$ref", "display", "type"}}
    canonical: dict[Any, list[str]] = {}
    for attribute in attributes:
        if attribute.carrier is Carrier.SIMPLE:
            kept[attribute.scim] = None
        elif attribute.carrier is Carrier.SUB:
            kept[attribute.scim] = (kept.get(attribute.scim) or set()) | {attribute.sub or ""}
        else:
            kept[attribute.scim] = (
                {"value", "type", "primary"} if attribute.primary else {"value", "type"}
            )
            canonical[(attribute.scim, "type")] = [attribute.element_type or ""]
    return kept, canonical


def _kept(resource: Any) -> Schema:
    schema = resource.to_schema()
    kept, canonical = USER_ATTRIBUTES.derived(_user_kept) if resource is User else (_GROUP_KEPT, {})
    attributes = []
    for attribute in schema.attributes or []:
        if attribute.name not in kept:
            continue
        subs = kept[attribute.name]
        if subs is not None and attribute.sub_attributes:
            wanted = [
                sub.model_copy(update={"canonical_values": canonical[key]})
                if (key := (attribute.name, sub.name)) in canonical
                else sub
                for sub in attribute.sub_attributes
                if sub.name in subs
            ]
            attributes.append(attribute.model_copy(update={"sub_attributes": wanted}))
        else:
            attributes.append(attribute)
    trimmed: Schema = schema.model_copy(update={"attributes": attributes})
    return trimmed


def kept_schemas() -> list[Schema]:
    return [_kept(User), _kept(Group)]


def _resource_types(base: str) -> list[ResourceType]:
    types = []
    for resource in (User, Group):
        resource_type = ResourceType.from_resource(resource)
        resource_type.meta = Meta(
            resource_type="ResourceType", location=f"{base}/ResourceTypes/{resource_type.id}"
        )
        types.append(resource_type)
    return types


def service_provider_config(services: Services, practice_id: UUID) -> ServiceProviderConfig:
    base = services.settings.scim_base_url(str(practice_id))
    return ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=services.settings.max_page_size),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=True),
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
        pagination=Pagination(
            cursor=True,
            index=True,
            default_pagination_method="index",
            default_page_size=min(DEFAULT_PAGE_SIZE, services.settings.max_page_size),
            max_page_size=services.settings.max_page_size,
            cursor_timeout=CURSOR_TIMEOUT_SECONDS,
        ),
        meta=Meta(resource_type="ServiceProviderConfig", location=f"{base}/ServiceProviderConfig"),
    )


def _listing(kind: Any, resources: list[Any]) -> dict[str, Any]:
    listing = ListResponse[kind](
        total_results=len(resources),
        start_index=1,
        items_per_page=len(resources),
        resources=resources,
    )
    return listing.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)


class DiscoveryController(Controller):
    path = "/scim/v2/{practice_id:uuid}"
    dependencies = {"practice": Provide(authenticated_practice)}  # noqa: RUF012

    @get("/ServiceProviderConfig")
    async def service_provider_config(
        self, practice: NamedDependency[UUID], services: NamedDependency[Services]
    ) -> Response[Any]:
        config = service_provider_config(services, practice)
        return scim_response(config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))

    @get("/Schemas")
    async def schemas(
        self, practice: NamedDependency[UUID], services: NamedDependency[Services]
    ) -> Response[Any]:
        return scim_response(_listing(Schema, kept_schemas()))

    @get("/Schemas/{schema_id:str}")
    async def schema(
        self,
        practice: NamedDependency[UUID],
        schema_id: FromPath[str],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        for schema in kept_schemas():
            if schema.id == schema_id:
                return scim_response(schema.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
        raise NotFound(f"no schema {schema_id[:100]!r}")

    @get("/ResourceTypes")
    async def resource_types(
        self, practice: NamedDependency[UUID], services: NamedDependency[Services]
    ) -> Response[Any]:
        base = services.settings.scim_base_url(str(practice))
        return scim_response(_listing(ResourceType, _resource_types(base)))

    @get("/ResourceTypes/{type_id:str}")
    async def resource_type(
        self,
        practice: NamedDependency[UUID],
        type_id: FromPath[str],
        services: NamedDependency[Services],
    ) -> Response[Any]:
        base = services.settings.scim_base_url(str(practice))
        for resource_type in _resource_types(base):
            if resource_type.id == type_id:
                return scim_response(
                    resource_type.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
                )
        raise NotFound(f"no resource type {type_id[:100]!r}")
