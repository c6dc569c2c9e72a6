"""A practice's SAML 2.0 identity provider, as the practice administrator describes it.

``certificates`` holds every signing certificate the IdP may use now (PEM): two during a
rotation, when Entra ID, Okta and Google publish the new certificate beside the old one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from server.domain.errors import InvalidValue
from server.domain.text import check_storable

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["MAX_CERTIFICATES", "NAME_ID_FORMATS", "SamlIdp", "checked_url", "saml_idp"]

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}

MAX_CERTIFICATES = 4

#: NameID formats an administrator may ask for; "" asks for none (the IdP's default).
NAME_ID_FORMATS = {
    "": "The identity provider's default",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress": "Email address",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified": "Unspecified",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent": "Persistent",
}


@dataclass(frozen=True, slots=True)
class SamlIdp:
    entity_id: str
    sso_url: str
    certificates: tuple[str, ...]
    name_id_format: str = ""
    #: IdP-initiated sign-in cannot be bound to a request this browser made: off by default.
    idp_initiated: bool = False
    metadata_url: str | None = None


def checked_url(label: str, value: str, *, field: str | None = None) -> str:
    """An https URL (http only on loopback) of at most 512 characters (errors about
    ``field``)."""
    value = value.strip()
    check_storable(label, value, field=field)
    parts = urlsplit(value)
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    if not parts.hostname or not secure or len(value) > 512:
        raise InvalidValue(f"{label} must be an https URL (http only on this machine)", field=field)
    return value


def saml_idp(
    *,
    entity_id: str,
    sso_url: str,
    certificates: Sequence[str],
    name_id_format: str,
    idp_initiated: bool,
    metadata_url: str | None,
) -> SamlIdp:
    """A checked ``SamlIdp`` (``InvalidValue`` says what is wrong); certificates are PEM,
    normalised by the edge that read them."""
    entity_id = entity_id.strip()
    if not entity_id or len(entity_id) > 512:
        raise InvalidValue("the IdP entity id is 1 to 512 characters", field="entity_id")
    check_storable("the IdP entity id", entity_id, field="entity_id")
    if name_id_format not in NAME_ID_FORMATS:
        raise InvalidValue(f"unknown NameID format {name_id_format[:100]!r}")
    pems = tuple(dict.fromkeys(c.strip() for c in certificates if c.strip()))
    if not 1 <= len(pems) <= MAX_CERTIFICATES:
        raise InvalidValue(
            f"give 1 to {MAX_CERTIFICATES} IdP signing certificates", field="certificates"
        )
    if any(not p.startswith("-----BEGIN CERTIFICATE-----") or len(p) > 8192 for p in pems):
        raise InvalidValue(
            "an IdP signing certificate is not a PEM certificate", field="certificates"
        )
    return SamlIdp(
        entity_id=entity_id,
        sso_url=checked_url("The IdP sign-on URL", sso_url, field="sso_url"),
        certificates=pems,
        name_id_format=name_id_format,
        idp_initiated=idp_initiated,
        metadata_url=(
            checked_url("The metadata URL", metadata_url, field="metadata_url")
            if metadata_url
            else None
        ),
    )
