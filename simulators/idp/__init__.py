"""The identity-provider side of the simulators: a minimal OpenID provider for each of Entra
ID, Okta and Google, served on loopback, so SSO is testable end to end without the internet.

    idp = SimulatedOidcIdp(ENTRA, tenant="<tenant id>", people=[IdpPerson("dana", "dana@x")])
    idp.register_client("client", "secret", ["https://app/sso/<practice>/callback"])
    with serve(idp):
        idp.sign_in_as("dana")   # the next authorize request consents as Dana

The SAML side (``SimulatedSamlIdp``, dialects ``SAML_ENTRA``/``SAML_OKTA``/
``SAML_GOOGLE``) signs real responses and has an "evil" mode (``Attack``).
"""

from simulators.idp.dialects import DIALECTS, ENTRA, GOOGLE, OKTA, Dialect
from simulators.idp.http import serve
from simulators.idp.oidc import Client, Reply, SimulatedOidcIdp
from simulators.idp.people import IdpPerson, person_from
from simulators.idp.saml import Attack, SimulatedSamlIdp
from simulators.idp.saml_dialects import (
    SAML_DIALECTS,
    SAML_ENTRA,
    SAML_GOOGLE,
    SAML_OKTA,
    SamlDialect,
)

__all__ = [
    "DIALECTS",
    "ENTRA",
    "GOOGLE",
    "OKTA",
    "SAML_DIALECTS",
    "SAML_ENTRA",
    "SAML_GOOGLE",
    "SAML_OKTA",
    "Attack",
    "Client",
    "Dialect",
    "IdpPerson",
    "Reply",
    "SamlDialect",
    "SimulatedOidcIdp",
    "SimulatedSamlIdp",
    "person_from",
    "serve",
]
