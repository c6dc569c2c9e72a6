"""Choosing SAML for a practice from what an administrator gives: the IdP's metadata (by URL
or as an uploaded document) or its entity id, sign-on URL and certificates typed in. Shared
by the management API and the console page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from server.domain.errors import InvalidValue
from server.sso.oidc import tls
from server.sso.saml_metadata import certificate_pem, parse_idp_metadata

if TYPE_CHECKING:
    from uuid import UUID

    from server.domain.sso import SsoConfig, SsoConfigService

__all__ = ["SamlInput", "configure_saml", "fetch_metadata"]

MAX_METADATA_BYTES = 512 * 1024


@dataclass(frozen=True, slots=True)
class SamlInput:
    """Values typed in win over the metadata's; certificates typed in are added to the
    metadata's (a rotation: the next certificate before the IdP publishes it)."""

    link_rule: str
    entity_id: str = ""
    sso_url: str = ""
    certificates: list[str] = field(default_factory=list)
    metadata_url: str | None = None
    metadata_xml: str | None = None
    name_id_format: str = ""
    idp_initiated: bool = False


async def fetch_metadata(url: str, transport: httpx.AsyncBaseTransport | None = None) -> str:
    """The IdP's metadata document at ``url`` (``InvalidValue`` when it cannot be read)."""
    try:
        async with httpx.AsyncClient(transport=transport, timeout=10, verify=tls()) as http:
            response = await http.get(url, headers={"Accept": "application/samlmetadata+xml"})
    except httpx.HTTPError:
        raise InvalidValue("the IdP metadata URL could not be read", field="metadata_url") from None
    if response.status_code != 200 or len(response.content) > MAX_METADATA_BYTES:
        raise InvalidValue(
            f"the IdP metadata URL answered {response.status_code}", field="metadata_url"
        )
    return response.text


async def configure_saml(
    configs: SsoConfigService,
    practice_id: UUID,
    given: SamlInput,
    *,
    actor: str,
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[SsoConfig, int]:
    entity_id, sso_url = given.entity_id.strip(), given.sso_url.strip()
    certificates: list[str] = []
    document = given.metadata_xml
    if not document and given.metadata_url:
        document = await fetch_metadata(given.metadata_url.strip(), transport)
    if document:
        source = "metadata_xml" if given.metadata_xml else "metadata_url"
        if len(document) > MAX_METADATA_BYTES:
            raise InvalidValue("the IdP metadata is too large", field=source)
        try:
            found = parse_idp_metadata(document.encode("utf-8"))
        except ValueError as error:
            raise InvalidValue(f"IdP metadata: {error}", field=source) from None
        entity_id, sso_url = entity_id or found.entity_id, sso_url or found.sso_url
        certificates.extend(found.certificates)
    for text in given.certificates:
        if not text.strip():
            continue
        try:
            certificates.append(certificate_pem(text))
        except ValueError as error:
            raise InvalidValue(f"IdP signing certificate: {error}", field="certificates") from None
    return await configs.configure_saml(
        practice_id,
        entity_id=entity_id,
        sso_url=sso_url,
        certificates=certificates,
        link_rule=given.link_rule,
        name_id_format=given.name_id_format,
        idp_initiated=given.idp_initiated,
        metadata_url=given.metadata_url.strip() if given.metadata_url else None,
        actor=actor,
    )
