"""Each identity provider's SAML 2.0 shape: entity id, endpoint paths, NameID, attribute names
and what it signs, for a "custom" (non-gallery) SAML app with the vendor's defaults.

Confidence tags as in ``../shared/idp-behaviors.md``: [DOC] documented by the vendor,
[ASSUMED] our reading where the vendor does not say.

- Entra ID (§1.9): NameID = ``user.userprincipalname`` (the UPN = SCIM ``userName``) [DOC];
  the NameID Format attribute of the "default" choice is emailAddress [ASSUMED]; claims under
  ``http://schemas.xmlsoap.org/ws/2005/05/identity/claims/`` plus ``objectidentifier`` and
  ``tenantid`` under ``http://schemas.microsoft.com/identity/claims/`` [DOC]; entity id
  ``https://sts.windows.net/{tenant}/`` [DOC]; the assertion is signed, the response is not
  ("Sign SAML assertion", the default signing option) [DOC].
- Okta (§2.9): NameID = the application username (= SCIM ``userName``), Format
  unspecified [DOC]; no attribute statements unless the admin adds some (we send email,
  firstName, lastName, the common example) [ASSUMED]; entity id
  ``http://www.okta.com/{app id}`` [DOC]; response and assertion both signed [DOC].
- Google Workspace (§3.6): NameID = primary email, Format emailAddress [DOC-adjacent];
  no attributes unless mapped [DOC]; entity id ``https://accounts.google.com/o/saml2?idpid=…``
  [DOC]; the assertion is signed, the response only when "Signed response" is ticked (off
  by default) [ASSUMED].
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from simulators.idp.people import IdpPerson

__all__ = ["SAML_DIALECTS", "SAML_ENTRA", "SAML_GOOGLE", "SAML_OKTA", "SamlDialect"]

EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
WS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
MS = "http://schemas.microsoft.com/identity/claims/"
#: Entra's object id claim, the one the ``objectidentifier:externalId`` rule reads.
OBJECT_IDENTIFIER = MS + "objectidentifier"


def _app_id(tenant: str) -> str:
    return "exk" + hashlib.sha256(f"okta-app:{tenant}".encode()).hexdigest()[:17]


def _idpid(tenant: str) -> str:
    return "C0" + hashlib.sha256(f"google:{tenant}".encode()).hexdigest()[:7]


@dataclass(frozen=True)
class SamlDialect:
    name: str
    #: entity id from the tenant (Entra tenant id, Okta org, Google customer)
    entity_id: Callable[[str], str]
    #: SSO and metadata paths on the loopback server (a query may follow the path)
    sso_path: Callable[[str], str]
    metadata_path: Callable[[str], str]
    name_id_format: str
    name_id: Callable[[IdpPerson], str]
    attributes: Callable[[IdpPerson, str], dict[str, list[str]]]
    sign_response: bool
    sign_assertion: bool


def _entra_attributes(person: IdpPerson, tenant: str) -> dict[str, list[str]]:
    values = {
        MS + "tenantid": tenant,
        OBJECT_IDENTIFIER: person.object_id,
        MS + "displayname": person.name,
        MS + "identityprovider": f"https://sts.windows.net/{tenant}/",
        WS + "givenname": person.given_name,
        WS + "surname": person.family_name,
        WS + "emailaddress": person.primary_email,
        WS + "name": person.user_name,
    }
    return {k: [v] for k, v in values.items() if v}


def _okta_attributes(person: IdpPerson, tenant: str) -> dict[str, list[str]]:
    values = {
        "email": person.primary_email,
        "firstName": person.given_name,
        "lastName": person.family_name,
    }
    return {k: [v] for k, v in values.items() if v}


SAML_ENTRA = SamlDialect(
    name="entra",
    entity_id=lambda tenant: f"https://sts.windows.net/{tenant}/",
    sso_path=lambda tenant: f"/{tenant}/saml2",
    metadata_path=lambda tenant: f"/{tenant}/federationmetadata/2007-06/federationmetadata.xml",
    name_id_format=EMAIL,
    name_id=lambda person: person.user_name,
    attributes=_entra_attributes,
    sign_response=False,
    sign_assertion=True,
)

SAML_OKTA = SamlDialect(
    name="okta",
    entity_id=lambda tenant: f"http://www.okta.com/{_app_id(tenant)}",
    sso_path=lambda tenant: f"/app/{tenant}_scimlab_1/{_app_id(tenant)}/sso/saml",
    metadata_path=lambda tenant: f"/app/{_app_id(tenant)}/sso/saml/metadata",
    name_id_format=UNSPECIFIED,
    name_id=lambda person: person.user_name,
    attributes=_okta_attributes,
    sign_response=True,
    sign_assertion=True,
)

SAML_GOOGLE = SamlDialect(
    name="google",
    entity_id=lambda tenant: f"https://accounts.google.com/o/saml2?idpid={_idpid(tenant)}",
    sso_path=lambda tenant: f"/o/saml2/idp?idpid={_idpid(tenant)}",
    metadata_path=lambda tenant: f"/o/saml2/metadata?idpid={_idpid(tenant)}",
    name_id_format=EMAIL,
    name_id=lambda person: person.primary_email,
    attributes=lambda person, tenant: {},
    sign_response=False,
    sign_assertion=True,
)

SAML_DIALECTS = {d.name: d for d in (SAML_ENTRA, SAML_OKTA, SAML_GOOGLE)}
