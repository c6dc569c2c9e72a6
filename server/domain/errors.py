"""Domain errors. Each protocol edge (SCIM, OAuth, management API) translates them."""

from __future__ import annotations

__all__ = [
    "ConfigurationDisabled",
    "DomainError",
    "InvalidValue",
    "NotFound",
    "PreconditionFailed",
    "ReadOnlyField",
    "UniquenessConflict",
    "WriteConflict",
]


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        #: The form field the error is about, when there is one (forms show it beside it).
        self.field = field


class NotFound(DomainError):
    """The record does not exist for this practice (or exists only in another practice)."""


class UniquenessConflict(DomainError):
    """A value that must be unique within the practice is already taken."""


class PreconditionFailed(DomainError):
    """The caller's version of the record is not the current one (RFC 7232 If-Match)."""


class WriteConflict(PreconditionFailed):
    """A write guarded by the version it read found another version stored: another writer
    came first. It answers 412 only to a caller whose ``If-Match`` named the version read;
    a write without a precondition is made again, under the record's lock, instead."""


class ConfigurationDisabled(DomainError):
    """SCIM provisioning is paused, or not configured, for this practice."""


class ReadOnlyField(DomainError):
    """A field managed by the practice's identity provider cannot be edited in the platform."""


class InvalidValue(DomainError):
    """A value breaks a domain rule (an empty userName, say)."""
