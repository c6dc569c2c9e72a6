"""What every console form does with an error: the field it is about (shown beside it by the
``field`` macro of ``_field.html``) and the sentence shown there."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from server.domain.errors import DomainError

__all__ = ["FORM_NEEDS_CHANGE", "field_errors", "sentence"]

#: The notice at the top of a page whose form came back with errors beside its fields.
FORM_NEEDS_CHANGE = "The form below needs a change: see the message beside the field."


def sentence(detail: str) -> str:
    """A domain error's words as a sentence: capital first letter, full stop at the end."""
    detail = detail.strip()
    if not detail:
        return detail
    text = detail[:1].upper() + detail[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def field_errors(
    error: DomainError, *, fields: Mapping[str, str] | None = None, fallback: str | None = None
) -> dict[str, str]:
    """``{form field: sentence}`` for an error about one field (``fields`` renames the
    domain's field names to the form's), else for ``fallback``, else nothing."""
    name = error.field or fallback
    if name is None:
        return {}
    return {(fields or {}).get(name, name): sentence(error.detail)}
