"""Email addresses as the SCIM edge stores them (RFC 7643 §4.1.2 ``emails.value``).

Every way into a staff account's email (SCIM requests, the staff API, the console) goes
through the same validation and normalisation as scim2-models applies to ``emails``, so a
stored address is always one a SCIM response can carry unchanged.
"""

from __future__ import annotations

from pydantic import ValidationError
from scim2_models import Email

__all__ = ["normalized_email"]


def normalized_email(value: str) -> str:
    """The address as scim2-models keeps it (domain lower-cased); ``ValueError`` if invalid."""
    try:
        normalized = Email(value=value).value
    except ValidationError:
        msg = f"{value!r} is not a valid email address"
        raise ValueError(msg) from None
    if normalized is None:  # pragma: no cover - Email keeps any valid value
        msg = f"{value!r} is not a valid email address"
        raise ValueError(msg)
    return str(normalized)
