"""Credential material: generation, hashing and constant-time comparison.

Client secrets, access tokens and API keys are 256-bit random strings, so a single
SHA-256 is a sound one-way store for them (no dictionary to attack) and is cheap
enough for every request. Human passwords are low-entropy and get Argon2id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "constant_time_equals",
    "hash_password",
    "hash_secret",
    "mask_secret",
    "new_client_id",
    "new_secret",
    "parse_basic_credentials",
    "verify_password",
]

_password_hasher = PasswordHasher()


def new_secret(prefix: str) -> str:
    """A URL-safe random credential with a readable prefix (``scs_`` secret, ``sat_`` token)."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def new_client_id() -> str:
    return f"scimlab-{secrets.token_hex(12)}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def constant_time_equals(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))


def mask_secret(hint: str) -> str:
    """What a secret looks like once it may no longer be shown: its last four characters."""
    return f"••••••••{hint}"


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def parse_basic_credentials(header: str) -> tuple[str, str] | None:
    """``Authorization: Basic`` as (user, password) (RFC 7617 §2); None for other schemes.

    Raises ``ValueError`` for a Basic header that does not decode to ``user:password``.
    """
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "basic" or not credential.strip():
        return None
    try:
        decoded = base64.b64decode(credential.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("malformed Basic credentials") from None
    user, separator, password = decoded.partition(":")
    if not separator:
        raise ValueError("malformed Basic credentials")
    return user, password
