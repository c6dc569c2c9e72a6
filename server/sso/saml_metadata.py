"""SAML metadata and keys: the practices' SP key pairs, reading an IdP's metadata document
(defusedxml: no DTDs, no entities) and writing the IdP description pysaml2 trusts."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeTree
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from defusedxml import DefusedXmlException
from saml2 import BINDING_HTTP_REDIRECT

if TYPE_CHECKING:
    from server.domain.saml import SamlIdp

__all__ = [
    "NS",
    "IdpMetadata",
    "certificate_pem",
    "idp_metadata_xml",
    "new_sp_key",
    "parse_idp_metadata",
    "split_certificates",
]

NS = {
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
}


@dataclass(frozen=True, slots=True)
class IdpMetadata:
    entity_id: str
    sso_url: str
    certificates: tuple[str, ...]


def new_sp_key(common_name: str) -> tuple[str, str]:
    """A fresh RSA key and a self-signed certificate (ten years): (key PEM, certificate PEM).
    IdPs pin the certificate from metadata; its validity dates are not what they trust."""
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
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


_PEM = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.DOTALL)


def split_certificates(text: str) -> list[str]:
    """Certificates pasted into one box: PEM blocks, or else base64 blocks separated by
    blank lines."""
    found = _PEM.findall(text)
    return found or [block for block in re.split(r"\n\s*\n", text) if block.strip()]


def certificate_pem(text: str) -> str:
    """A certificate as PEM, from PEM or the bare base64 of metadata; ``ValueError`` when it
    is not an X.509 certificate."""
    text = text.strip()
    try:
        if "-----BEGIN" in text:
            cert = x509.load_pem_x509_certificate(text.encode("ascii"))
        else:
            cert = x509.load_der_x509_certificate(base64.b64decode("".join(text.split())))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        raise ValueError("not an X.509 certificate (PEM or base64 DER)") from None
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _base64_body(pem: str) -> str:
    return "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))


def parse_idp_metadata(xml: str | bytes) -> IdpMetadata:
    """Entity id, HTTP-Redirect SSO URL and signing certificates of the first IdP in a
    metadata document (``ValueError`` with a reason otherwise)."""
    try:
        root = SafeTree.fromstring(xml, forbid_dtd=True)
    except (ParseError, DefusedXmlException):
        raise ValueError("the metadata is not well-formed XML (or has a DOCTYPE)") from None
    entities = [root] if root.tag == f"{{{NS['md']}}}EntityDescriptor" else []
    entities += root.findall(".//md:EntityDescriptor", NS)
    for entity in entities:
        idp = entity.find("md:IDPSSODescriptor", NS)
        if idp is None:
            continue
        services = idp.findall("md:SingleSignOnService", NS)
        redirect = [s for s in services if s.get("Binding") == BINDING_HTTP_REDIRECT]
        if not redirect:
            raise ValueError("the IdP offers no HTTP-Redirect SingleSignOnService")
        certs: list[str] = []
        for descriptor in idp.findall("md:KeyDescriptor", NS):
            if descriptor.get("use", "signing") != "signing":
                continue
            for node in descriptor.findall(".//ds:X509Certificate", NS):
                pem = certificate_pem(node.text or "")
                if pem not in certs:
                    certs.append(pem)
        if not certs:
            raise ValueError("the metadata names no signing certificate")
        return IdpMetadata(
            entity.get("entityID", ""), redirect[0].get("Location", ""), tuple(certs)
        )
    raise ValueError("the metadata describes no identity provider (IDPSSODescriptor)")


def idp_metadata_xml(idp: SamlIdp) -> str:
    """The practice's IdP as inline metadata for pysaml2 (every certificate: rotation)."""
    keys = "".join(
        '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
        f"{_base64_body(pem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        "</md:KeyDescriptor>"
        for pem in idp.certificates
    )
    return (
        f'<md:EntityDescriptor xmlns:md="{NS["md"]}" xmlns:ds="{NS["ds"]}" '
        f'entityID="{escape(idp.entity_id)}"><md:IDPSSODescriptor '
        'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f'{keys}<md:SingleSignOnService Binding="{BINDING_HTTP_REDIRECT}" '
        f'Location="{escape(idp.sso_url)}"/></md:IDPSSODescriptor></md:EntityDescriptor>'
    )
