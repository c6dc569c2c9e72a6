"""A minimal SAML 2.0 identity provider, sans I/O: metadata, the SSO endpoint (HTTP-Redirect
AuthnRequest in, HTTP-POST response out as an auto-submitting form) and IdP-initiated sign-in.

Responses are signed for real, by pysaml2's ``xmlsec1`` backend, with a key made when the
IdP is (test-only: it lives in a temporary directory removed with the IdP).
``evil`` makes every response one of the attacks in ``Attack``, for the service provider's
tests and the conformance suite:

    idp = SimulatedSamlIdp(SAML_ENTRA, tenant="<tenant id>", people=[IdpPerson(...)])
    idp.register_sp(sp_entity_id, acs_url)
    idp.sign_in_as("dana")
    idp.evil = Attack.UNSIGNED         # every response from now on is unsigned
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import secrets
import shutil
import tempfile
import time
import weakref
import zlib
from enum import StrEnum
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import defusedxml.ElementTree as SafeTree
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from simulators.idp.oidc import Reply

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from simulators.idp.people import IdpPerson
    from simulators.idp.saml_dialects import SamlDialect

__all__ = ["Attack", "SamlKey", "SimulatedSamlIdp"]

XMLSEC = "/usr/bin/xmlsec1"


@functools.cache
def _xmlsec1_backend_class() -> type[Any]:
    """pysaml2's xmlsec1 backend, asking ``xmlsec1 --version`` once: the backend runs it
    twice around every signature, and the binary does not change while the simulator runs.
    pysaml2's signing module loads the SAML XML schemas when imported (about a second), so
    it is imported when the first simulated SAML IdP is made, not by every CLI start."""
    from saml2.sigver import CryptoBackendXmlSec1  # noqa: PLC0415 - see the docstring

    version = str(CryptoBackendXmlSec1(XMLSEC).version)

    class XmlSec1(CryptoBackendXmlSec1):  # type: ignore[misc]
        @property
        def version(self) -> str:
            return version

    return XmlSec1


SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
ASSERTION_NODE = f"{SAML}:Assertion"
RESPONSE_NODE = f"{SAMLP}:Response"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
PORTAL_PATH = "/portal/launch"
LIFETIME = 300  # Entra/Okta/Google assertions live minutes [ASSUMED: five]


class Attack(StrEnum):
    """What an evil IdP does to an otherwise good response (one per refused case)."""

    UNSIGNED = "unsigned"  # neither response nor assertion signed
    UNKNOWN_KEY = "unknown-key"  # signed by a key not in the IdP's metadata (cert embedded)
    MODIFIED = "modified"  # NameID changed after signing
    WRAP_BEFORE = "wrap-before"  # an unsigned assertion before the signed one
    WRAP_AFTER = "wrap-after"  # an unsigned assertion after the signed one
    WRAP_EXTENSIONS = "wrap-extensions"  # signed assertion hidden in samlp:Extensions
    WRAP_IN_SIGNATURE = "wrap-in-signature"  # signed assertion inside the forged one's Object
    WRAP_RESPONSE = "wrap-response"  # a forged response around the signed one (XSW1)
    AUDIENCE = "audience"
    RECIPIENT = "recipient"
    DESTINATION = "destination"
    IN_RESPONSE_TO = "in-response-to"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    OTHER_SP = "other-sp"  # a good assertion for another SP, sent to this one
    DOCTYPE = "doctype"  # internal entity in a DOCTYPE
    EXTERNAL_ENTITY = "external-entity"  # SYSTEM entity


WRAPPING = {
    Attack.WRAP_BEFORE,
    Attack.WRAP_AFTER,
    Attack.WRAP_EXTENSIONS,
    Attack.WRAP_IN_SIGNATURE,
    Attack.WRAP_RESPONSE,
}


class SamlKey:
    """An RSA key and self-signed certificate in a private temporary directory (xmlsec1 reads
    keys from files); removed when the object is collected."""

    def __init__(self, common_name: str) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .sign(key, hashes.SHA256())
        )
        self.certificate_pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        folder = tempfile.mkdtemp(prefix="scimlab-idp-")
        weakref.finalize(self, shutil.rmtree, folder, True)
        self.key_file = str(Path(folder, "idp.key"))
        Path(self.key_file).write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    @property
    def certificate_b64(self) -> str:
        lines = self.certificate_pem.strip().splitlines()
        return "".join(line for line in lines if not line.startswith("-----"))


def _instant(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_id() -> str:
    return "_" + secrets.token_hex(16)


class SimulatedSamlIdp:
    def __init__(
        self,
        dialect: SamlDialect,
        *,
        tenant: str = "contoso",
        people: Iterable[IdpPerson] = (),
        clock: Any = time.time,
    ) -> None:
        self.dialect = dialect
        self.tenant = tenant
        self.base_url = "http://127.0.0.1"
        self.people = {p.key: p for p in people}
        #: SP entity id -> ACS URL (what the administrator registered)
        self.sps: dict[str, str] = {}
        self.signed_in: str | None = None
        self.evil: Attack | None = None
        #: the person an attack claims to be (wrapping, modification); default: the signer
        self.victim: IdpPerson | None = None
        self.last_response: str | None = None
        self.requests_seen = 0
        self._clock = clock
        self.key = SamlKey(f"{dialect.name} SAML signing")
        #: published beside ``key`` (a rotation in progress)
        self.next_key: SamlKey | None = None
        self._crypto = _xmlsec1_backend_class()(XMLSEC)

    # -- set-up -------------------------------------------------------------------------
    @property
    def entity_id(self) -> str:
        return self.dialect.entity_id(self.tenant)

    @property
    def sso_url(self) -> str:
        return self.base_url + self.dialect.sso_path(self.tenant)

    @property
    def metadata_url(self) -> str:
        return self.base_url + self.dialect.metadata_path(self.tenant)

    def add_person(self, person: IdpPerson) -> IdpPerson:
        self.people[person.key] = person
        return person

    def register_sp(self, entity_id: str, acs_url: str) -> None:
        self.sps[entity_id] = acs_url

    def sign_in_as(self, key: str | None) -> None:
        self.signed_in = key

    def start_rotation(self) -> SamlKey:
        """Publish a second certificate; ``finish_rotation`` starts signing with it."""
        self.next_key = SamlKey(f"{self.dialect.name} SAML signing (next)")
        return self.next_key

    def finish_rotation(self) -> None:
        if self.next_key is not None:
            self.key, self.next_key = self.next_key, None

    # -- endpoints ----------------------------------------------------------------------
    def dispatch(self, method: str, path: str, query: Mapping[str, str]) -> Reply:
        metadata = urlsplit(self.dialect.metadata_path(self.tenant)).path
        sso = urlsplit(self.dialect.sso_path(self.tenant)).path
        if method == "GET" and path == metadata:
            return Reply(200, {"Content-Type": "application/samlmetadata+xml"}, xml=self.metadata())
        if method == "GET" and path == sso:
            return self.sso(query)
        if method == "GET" and path == PORTAL_PATH:
            return self.portal(query)
        return Reply(404, json={"error": "not_found"})

    @property
    def portal_url(self) -> str:
        """The app tile in the IdP's portal: ``?sp=<SP entity id>`` starts an IdP-initiated
        sign-in of the signed-in person (Entra My Apps, the Okta dashboard, Google's app
        launcher)."""
        return self.base_url + PORTAL_PATH

    def portal(self, query: Mapping[str, str]) -> Reply:
        person = self.people.get(self.signed_in or "")
        sp = query.get("sp", "")
        if person is None or sp not in self.sps:
            return Reply(400, html="<h1>Nobody is signed in, or the app is not registered</h1>")
        acs, response = self.idp_initiated(person, sp)
        return Reply(200, html=self.post_form(acs, response, None))

    def metadata(self) -> str:
        keys = [self.key, *([self.next_key] if self.next_key else [])]
        descriptors = "".join(
            '<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/'
            f'xmldsig#"><ds:X509Data><ds:X509Certificate>{k.certificate_b64}'
            "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
            for k in keys
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            f'entityID="{escape(self.entity_id)}"><md:IDPSSODescriptor '
            'WantAuthnRequestsSigned="false" protocolSupportEnumeration="'
            f'{SAMLP}">{descriptors}'
            f"<md:NameIDFormat>{self.dialect.name_id_format}</md:NameIDFormat>"
            f'<md:SingleSignOnService Binding="{REDIRECT}" Location="{escape(self.sso_url)}"/>'
            "</md:IDPSSODescriptor></md:EntityDescriptor>"
        )

    def sso(self, query: Mapping[str, str]) -> Reply:
        """SP-initiated: read the AuthnRequest, answer the signed-in person to its ACS."""
        self.requests_seen += 1
        try:
            inflated = zlib.decompress(base64.b64decode(query.get("SAMLRequest", "")), -15)
            request = SafeTree.fromstring(inflated, forbid_dtd=True)
        except (ValueError, zlib.error, SafeTree.ParseError):
            return Reply(400, html="<h1>AADSTS750054: SAMLRequest is missing or invalid</h1>")
        issuer = request.findtext(f"{{{SAML}}}Issuer") or ""
        acs = self.sps.get(issuer.strip())
        if acs is None or request.get("AssertionConsumerServiceURL", acs) != acs:
            return Reply(400, html="<h1>The application is not registered at this IdP</h1>")
        person = self.people.get(self.signed_in or "")
        if person is None:
            return Reply(200, html="<h1>Sign in</h1><p>No one is signed in.</p>")
        if not person.active:
            return Reply(403, html="<h1>Your account is disabled</h1>")
        response = self.response(person, issuer, acs, in_response_to=request.get("ID"))
        return Reply(200, html=self.post_form(acs, response, query.get("RelayState")))

    def idp_initiated(self, person: IdpPerson, sp_entity_id: str) -> tuple[str, str]:
        """(ACS URL, SAMLResponse): the tile a person clicks in the IdP's portal."""
        acs = self.sps[sp_entity_id]
        return acs, self.response(person, sp_entity_id, acs, in_response_to=None)

    @staticmethod
    def post_form(acs: str, response: str, relay_state: str | None) -> str:
        relay = (
            f'<input type="hidden" name="RelayState" value="{escape(relay_state)}">'
            if relay_state
            else ""
        )
        return (
            '<!doctype html><html><body onload="document.forms[0].submit()">'
            f'<form method="post" action="{escape(acs)}">'
            f'<input type="hidden" name="SAMLResponse" value="{response}">{relay}'
            '<noscript><button type="submit">Continue</button></noscript></form></body></html>'
        )

    # -- responses ----------------------------------------------------------------------
    def response(
        self,
        person: IdpPerson,
        sp_entity_id: str,
        acs_url: str,
        *,
        in_response_to: str | None,
        attack: Attack | None = None,
    ) -> str:
        """A base64 SAMLResponse for ``person``, good unless ``attack`` (or ``evil``)."""
        attack = attack or self.evil
        now = self._clock()
        audience, recipient, destination = sp_entity_id, acs_url, acs_url
        issued, irt = now, in_response_to
        if attack is Attack.AUDIENCE:
            audience = "https://evil.example/sp"
        elif attack is Attack.RECIPIENT:
            recipient = "https://evil.example/acs"
        elif attack is Attack.DESTINATION:
            destination = "https://evil.example/acs"
        elif attack is Attack.IN_RESPONSE_TO:
            irt = _new_id()
        elif attack is Attack.EXPIRED:
            issued = now - LIFETIME - 3600
        elif attack is Attack.NOT_YET_VALID:
            issued = now + 3600
        elif attack is Attack.OTHER_SP:
            other = [(e, a) for e, a in self.sps.items() if e != sp_entity_id]
            audience, recipient = other[0] if other else ("https://other.example/sp", acs_url)
            destination = recipient
        assertion_id, response_id = _new_id(), _new_id()
        assertion = self._assertion(
            person, assertion_id, audience=audience, recipient=recipient, irt=irt, at=issued
        )
        xml = self._signed(
            assertion,
            response_id=response_id,
            destination=destination,
            irt=irt,
            at=issued,
            attack=attack,
        )
        if attack in WRAPPING:
            xml = self._wrapped(
                xml,
                attack,
                signed_id=assertion_id,
                audience=audience,
                recipient=recipient,
                irt=irt,
                at=issued,
            )
        elif attack is Attack.MODIFIED:
            victim = self.victim or person
            target = f">{escape(self.dialect.name_id(person))}</saml:NameID>"
            forged = self.dialect.name_id(victim) if victim is not person else "x" + target[1:-15]
            xml = xml.replace(target, f">{escape(forged)}</saml:NameID>", 1)
        elif attack is Attack.DOCTYPE:
            head = '<!DOCTYPE r [<!ENTITY who "admin">]>'
            xml = head + xml.replace("<saml:NameID", "<!-- &who; --><saml:NameID", 1)
        elif attack is Attack.EXTERNAL_ENTITY:
            head = '<!DOCTYPE r [<!ENTITY who SYSTEM "file:///etc/passwd">]>'
            xml = head + xml.replace("</saml:NameID>", "&who;</saml:NameID>", 1)
        encoded = base64.b64encode(xml.encode("utf-8")).decode("ascii")
        self.last_response = encoded
        return encoded

    def _assertion(
        self,
        person: IdpPerson,
        assertion_id: str,
        *,
        audience: str,
        recipient: str,
        irt: str | None,
        at: float,
        signature: str = "",
    ) -> str:
        d = self.dialect
        in_response = f' InResponseTo="{escape(irt)}"' if irt else ""
        attributes = "".join(
            f'<saml:Attribute Name="{escape(name)}">'
            + "".join(f"<saml:AttributeValue>{escape(v)}</saml:AttributeValue>" for v in values)
            + "</saml:Attribute>"
            for name, values in d.attributes(person, self.tenant).items()
        )
        statement = (
            f"<saml:AttributeStatement>{attributes}</saml:AttributeStatement>" if attributes else ""
        )
        return (
            f'<saml:Assertion xmlns:saml="{SAML}" ID="{assertion_id}" Version="2.0" '
            f'IssueInstant="{_instant(at)}"><saml:Issuer>{escape(self.entity_id)}</saml:Issuer>'
            f"{signature}<saml:Subject>"
            f'<saml:NameID Format="{d.name_id_format}">{escape(d.name_id(person))}</saml:NameID>'
            '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
            f'<saml:SubjectConfirmationData{in_response} NotOnOrAfter="{_instant(at + LIFETIME)}"'
            f' Recipient="{escape(recipient)}"/></saml:SubjectConfirmation></saml:Subject>'
            f'<saml:Conditions NotBefore="{_instant(at - 5)}" NotOnOrAfter="'
            f'{_instant(at + LIFETIME)}"><saml:AudienceRestriction><saml:Audience>'
            f"{escape(audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>"
            f'<saml:AuthnStatement AuthnInstant="{_instant(at)}" SessionIndex="{_new_id()}">'
            "<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:"
            "classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>"
            f"</saml:AuthnStatement>{statement}</saml:Assertion>"
        )

    def _sign(self, xml: str, node: str, node_id: str, key: SamlKey) -> str:
        signed = self._crypto.sign_statement(xml, node, key.key_file, node_id)
        return str(signed).split("?>", 1)[-1] if str(signed).startswith("<?xml") else str(signed)

    def _template(self, node_id: str, key: SamlKey) -> str:
        from saml2.sigver import pre_signature_part  # noqa: PLC0415 - see _xmlsec1_backend_class

        signature = pre_signature_part(
            node_id, key.certificate_b64, digest_alg=DIGEST_SHA256, sign_alg=SIG_RSA_SHA256
        )
        return str(signature)

    def _signed(
        self,
        assertion: str,
        *,
        response_id: str,
        destination: str,
        irt: str | None,
        at: float,
        attack: Attack | None,
    ) -> str:
        key = SamlKey("unknown signer") if attack is Attack.UNKNOWN_KEY else self.key
        sign_assertion = self.dialect.sign_assertion or attack in WRAPPING
        sign_response = self.dialect.sign_response and attack not in WRAPPING
        if attack is Attack.UNSIGNED:
            sign_assertion = sign_response = False
        if attack is Attack.WRAP_RESPONSE:
            sign_assertion, sign_response = False, True
        issuer_end = "</saml:Issuer>"
        assertion_id = assertion.split('ID="', 1)[1].split('"', 1)[0]
        if sign_assertion:
            assertion = assertion.replace(
                issuer_end, issuer_end + self._template(assertion_id, key), 1
            )
        in_response = f' InResponseTo="{escape(irt)}"' if irt else ""
        response = (
            f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{response_id}" '
            f'Version="2.0" IssueInstant="{_instant(at)}" Destination="{escape(destination)}"'
            f"{in_response}><saml:Issuer>{escape(self.entity_id)}</saml:Issuer>"
            f"{self._template(response_id, key) if sign_response else ''}"
            '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
            f"</samlp:Status>{assertion}</samlp:Response>"
        )
        if sign_assertion:
            response = self._sign(response, ASSERTION_NODE, assertion_id, key)
        if sign_response:
            response = self._sign(response, RESPONSE_NODE, response_id, key)
        return response

    def _wrapped(
        self,
        xml: str,
        attack: Attack,
        *,
        signed_id: str,
        audience: str,
        recipient: str,
        irt: str | None,
        at: float,
    ) -> str:
        """Signature wrapping: keep the genuinely signed element where a naive verifier
        still finds it, and put a forged, unsigned assertion for ``victim`` where a naive
        consumer reads the person from."""
        victim = self.victim or next(iter(self.people.values()))
        forged = self._assertion(
            victim, _new_id(), audience=audience, recipient=recipient, irt=irt, at=at
        )
        start = xml.index("<saml:Assertion")
        end = xml.index("</saml:Assertion>") + len("</saml:Assertion>")
        signed = xml[start:end]
        if attack is Attack.WRAP_BEFORE:
            return xml[:start] + forged + xml[start:]
        if attack is Attack.WRAP_AFTER:
            return xml[:end] + forged + xml[end:]
        if attack is Attack.WRAP_EXTENSIONS:
            hidden = f"<samlp:Extensions>{signed}</samlp:Extensions>"
            status = xml.index("<samlp:Status>")
            return xml[:status] + hidden + xml[status:start] + forged + xml[end:]
        if attack is Attack.WRAP_IN_SIGNATURE:
            holder = forged.replace(
                "</saml:Issuer>",
                '</saml:Issuer><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
                f"<ds:Object>{signed}</ds:Object></ds:Signature>",
                1,
            )
            return xml[:start] + holder + xml[end:]
        # WRAP_RESPONSE (XSW1): a forged response whose Signature's Object holds the signed one
        original = xml
        forged_response = original[: original.index("<samlp:Status>")]
        forged_response = forged_response.replace(f'ID="{signed_id}"', 'ID="_forged"', 1)
        head = forged_response.split("<saml:Issuer>", 1)[0]
        response_id = original.split('ID="', 1)[1].split('"', 1)[0]
        head = head.replace(f'ID="{response_id}"', f'ID="{_new_id()}"', 1)
        return (
            f"{head}<saml:Issuer>{escape(self.entity_id)}</saml:Issuer>"
            '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Object>'
            f"{original}</ds:Object></ds:Signature>"
            '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
            f"</samlp:Status>{forged}</samlp:Response>"
        )
