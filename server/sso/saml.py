"""The service-provider side of SAML 2.0 Web Browser SSO, on pysaml2 (``xmlsec1`` verifies
the signatures; nothing here reads or writes an XML signature itself).

- SP metadata: entity id ``…/sso/{practice}/saml/metadata``, the ACS ``…/saml/acs``
  (HTTP-POST) and the practice's signing certificate.
- The AuthnRequest goes out over HTTP-Redirect, signed with the practice's SP key.
- A response is refused before pysaml2 sees it when it is not base64, is too large, has a
  DOCTYPE or entities (defusedxml, nothing expanded), is not a ``samlp:Response``, or holds
  other than exactly one assertion anywhere (the second assertion of every classic signature
  wrapping placement). pysaml2 then checks the signature against the certificates of the
  practice's IdP only (response or assertion signed), the Destination and Recipient (our
  ACS), InResponseTo (the request this browser started), the Audience and the time window;
  the same conditions are read again here from the verified assertion, so a gap in one
  layer is caught by the other.

pysaml2 and ``xmlsec1`` are synchronous (a subprocess per signature): callers run
``verify_response`` in a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeTree
from defusedxml import DefusedXmlException
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.xmldsig import SIG_RSA_SHA256

from server.sso.saml_metadata import NS, idp_metadata_xml

if TYPE_CHECKING:
    from collections.abc import Iterator

    from saml2.client import Saml2Client
    from saml2.response import AuthnResponse

    from server.domain.saml import SamlIdp

__all__ = [
    "ACCEPTED_SKEW_SECONDS",
    "AssertionRejected",
    "SamlAssertion",
    "SpIdentity",
    "authn_request",
    "sp_metadata",
    "verify_response",
]

XMLSEC = "/usr/bin/xmlsec1"
ACCEPTED_SKEW_SECONDS = 90
MAX_RESPONSE_BYTES = 256 * 1024
_RESPONSE = f"{{{NS['samlp']}}}Response"
_ASSERTION = f"{{{NS['saml']}}}Assertion"
_ENCRYPTED = f"{{{NS['saml']}}}EncryptedAssertion"


class AssertionRejected(Exception):
    """The SAML response cannot be trusted; ``reason`` is short and safe to audit."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class SpIdentity:
    """This practice as a SAML service provider."""

    entity_id: str
    acs_url: str
    key_pem: str
    certificate_pem: str


@dataclass(frozen=True, slots=True)
class SamlAssertion:
    """What a verified assertion says; ``attributes`` by their full names."""

    issuer: str
    name_id: str
    name_id_format: str | None
    assertion_id: str
    in_response_to: str | None
    expires_at: dt.datetime
    attributes: dict[str, list[str]] = field(default_factory=dict)


@contextmanager
def _client(
    sp: SpIdentity, idp: SamlIdp | None, *, allow_unsolicited: bool = False, key: bool = False
) -> Iterator[Saml2Client]:
    """A pysaml2 client for one call. pysaml2 reads keys from files: the SP certificate (and
    with ``key`` its private key, only to sign a request) lives in a private temporary
    directory while the call runs.

    pysaml2's client loads the SAML XML schemas when imported (about a second of start-up),
    so it is imported on the first SAML call, not by every process that imports the server
    (the CLI included)."""
    from saml2.client import Saml2Client  # noqa: PLC0415 - see the docstring
    from saml2.config import SPConfig  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="scimlab-saml-") as folder:
        key_file, cert_file = Path(folder, "sp.key"), Path(folder, "sp.crt")
        cert_file.write_text(sp.certificate_pem)
        files = {"cert_file": str(cert_file)}
        if key:
            key_file.write_text(sp.key_pem)
            files["key_file"] = str(key_file)
        sp_service: dict[str, Any] = {
            "endpoints": {"assertion_consumer_service": [(sp.acs_url, BINDING_HTTP_POST)]},
            "allow_unsolicited": allow_unsolicited,
            "authn_requests_signed": True,
            "want_response_signed": False,
            "want_assertions_signed": False,
            "want_assertions_or_response_signed": True,
            "only_use_keys_in_metadata": True,
        }
        config = SPConfig()
        config.load(
            {
                "entityid": sp.entity_id,
                "xmlsec_binary": XMLSEC,
                **files,
                "metadata": {"inline": [idp_metadata_xml(idp)]} if idp else {},
                "service": {"sp": sp_service},
                "accepted_time_diff": ACCEPTED_SKEW_SECONDS,
                "allow_unknown_attributes": True,
            }
        )
        yield Saml2Client(config=config)


def sp_metadata(sp: SpIdentity) -> str:
    """The practice's SP metadata document (what an administrator uploads to the IdP)."""
    from saml2.metadata import entity_descriptor  # noqa: PLC0415 - see _client

    with _client(sp, None) as client:
        descriptor = entity_descriptor(client.config)
    return str(descriptor)


def authn_request(sp: SpIdentity, idp: SamlIdp, *, relay_state: str) -> tuple[str, str]:
    """(request id, URL): the signed AuthnRequest on the HTTP-Redirect binding."""
    with _client(sp, idp, key=True) as client:
        request_id, info = client.prepare_for_authenticate(
            entityid=idp.entity_id,
            relay_state=relay_state,
            binding=BINDING_HTTP_REDIRECT,
            sigalg=SIG_RSA_SHA256,
            nameid_format=idp.name_id_format or None,
        )
    location = dict(info["headers"])["Location"]
    return str(request_id), str(location)


# --- the response ------------------------------------------------------------------------
def _screened(saml_response: str, acs_url: str) -> bytes:
    """The decoded response, refused before any SAML processing when it is not a lone
    ``samlp:Response`` with exactly one plain assertion, or carries DTDs or entities."""
    if len(saml_response) > MAX_RESPONSE_BYTES * 4 // 3 + 4:
        raise AssertionRejected("malformed", "the SAML response is too large")
    try:
        xml = base64.b64decode("".join(saml_response.split()), validate=True)
    except (binascii.Error, ValueError):
        raise AssertionRejected("malformed", "SAMLResponse is not base64") from None
    try:
        root = SafeTree.fromstring(xml, forbid_dtd=True)
    except DefusedXmlException:
        raise AssertionRejected("xml_dtd", "DOCTYPE or entity declarations are refused") from None
    except ParseError:
        raise AssertionRejected("malformed", "the SAML response is not well-formed XML") from None
    if root.tag != _RESPONSE:
        raise AssertionRejected("malformed", "not a samlp:Response")
    if root.find(f".//{_ENCRYPTED}") is not None:
        raise AssertionRejected("unsupported", "encrypted assertions are not supported")
    count = sum(1 for _ in root.iter(_ASSERTION))
    if count != 1:
        raise AssertionRejected("wrapping", f"{count} assertions where exactly one belongs")
    if root.get("Destination") not in (None, acs_url):
        raise AssertionRejected("destination", "the Destination is not this practice's ACS")
    return xml


def _when(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def _checked(
    response: AuthnResponse, sp: SpIdentity, idp: SamlIdp, request_id: str | None
) -> SamlAssertion:
    """Read again from the verified assertion: issuer, audience, recipient, destination,
    InResponseTo, time window (all also enforced by pysaml2)."""
    assertion = response.assertion
    outer = response.response
    if outer.destination and outer.destination != sp.acs_url:
        raise AssertionRejected("destination", "the Destination is not this practice's ACS")
    issuer = (assertion.issuer.text or "").strip() if assertion.issuer else ""
    if issuer != idp.entity_id:
        raise AssertionRejected("foreign_idp", "issued by another identity provider")
    audiences = [
        (audience.text or "").strip()
        for restriction in (
            assertion.conditions.audience_restriction if assertion.conditions else []
        )
        for audience in restriction.audience
    ]
    if sp.entity_id not in audiences:
        raise AssertionRejected("audience", "the Audience is not this practice")
    now = dt.datetime.now(dt.UTC)
    skew = dt.timedelta(seconds=ACCEPTED_SKEW_SECONDS)
    not_before = _when(assertion.conditions.not_before) if assertion.conditions else None
    expires = _when(assertion.conditions.not_on_or_after) if assertion.conditions else None
    bearer = [
        c.subject_confirmation_data
        for c in assertion.subject.subject_confirmation
        if c.method == "urn:oasis:names:tc:SAML:2.0:cm:bearer" and c.subject_confirmation_data
    ]
    if not bearer:
        raise AssertionRejected("malformed", "no bearer SubjectConfirmationData")
    data = bearer[0]
    if data.recipient != sp.acs_url:
        raise AssertionRejected("recipient", "the Recipient is not this practice's ACS")
    sent = data.in_response_to or outer.in_response_to
    if request_id is not None and sent != request_id:
        raise AssertionRejected("in_response_to", "InResponseTo is not this browser's request")
    if request_id is None and sent:
        raise AssertionRejected(
            "in_response_to", "an answer to a request this browser did not make"
        )
    confirmation_expires = _when(data.not_on_or_after)
    ends = [t for t in (expires, confirmation_expires) if t is not None]
    if not ends:
        raise AssertionRejected("malformed", "the assertion has no NotOnOrAfter")
    if min(ends) + skew <= now or (not_before is not None and not_before - skew > now):
        raise AssertionRejected("expired", "outside the assertion's validity window")
    name_id = assertion.subject.name_id
    attributes: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement:
        for attribute in statement.attribute:
            values = [str(v.text).strip() for v in attribute.attribute_value if v.text]
            attributes.setdefault(attribute.name, []).extend(values)
    return SamlAssertion(
        issuer=issuer,
        name_id=(name_id.text or "").strip() if name_id is not None else "",
        name_id_format=name_id.format if name_id is not None else None,
        assertion_id=str(assertion.id),
        in_response_to=sent,
        expires_at=min(ends),
        attributes=attributes,
    )


def verify_response(
    sp: SpIdentity, idp: SamlIdp, saml_response: str, *, request_id: str | None
) -> SamlAssertion:
    """The verified assertion of an HTTP-POST ``SAMLResponse``; ``request_id`` is the
    AuthnRequest this browser started, None for IdP-initiated sign-in (which the caller
    allows only when the practice turned it on)."""
    from saml2.response import AuthnResponse  # noqa: PLC0415 - see _client

    _screened(saml_response, sp.acs_url)
    outstanding = {request_id: "/"} if request_id else {}
    with _client(sp, idp, allow_unsolicited=request_id is None) as client:
        try:
            response = client.parse_authn_request_response(
                saml_response, BINDING_HTTP_POST, outstanding=outstanding
            )
        except Exception as error:  # pysaml2 raises a dozen unrelated classes; all refuse
            raise AssertionRejected(_reason(error), type(error).__name__) from None
    if not isinstance(response, AuthnResponse) or response.assertion is None:
        raise AssertionRejected("invalid", "pysaml2 found no valid assertion")
    return _checked(response, sp, idp, request_id)


_REASONS = {
    "SignatureError": "bad_signature",
    "MissingKey": "bad_signature",
    "UnsolicitedResponse": "in_response_to",
    "ResponseLifetimeExceed": "expired",
    "ToEarly": "expired",
    "StatusError": "idp_error",
}


def _reason(error: Exception) -> str:
    name = type(error).__name__
    if name in _REASONS:
        return _REASONS[name]
    text = str(error).lower()
    for word, reason in (
        ("are signed", "unsigned"),
        ("signature", "bad_signature"),
        ("audience", "audience"),
        ("destination", "destination"),
        ("recipient", "recipient"),
        ("expired", "expired"),
        ("too old", "expired"),
    ):
        if word in text:
            return reason
    return "invalid"
