"""Hypothesis strategies derived from the table of kept User attributes
(``server.domain.user_attributes``): a kept attribute added there is generated here too."""

from __future__ import annotations

from hypothesis import strategies as st
from scim2_models import Email

from server.domain.staff import StaffProfile
from server.domain.user_attributes import USER_ATTRIBUTES, UserAttribute, ValueKind

__all__ = ["profiles", "text", "value_of"]

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
# Stored emails went through the same validation (SCIM requests, the staff API).
_stored_email = st.emails().map(lambda e: str(Email(value=e).value))


def value_of(attribute: UserAttribute) -> st.SearchStrategy[object]:
    """Values a stored profile may hold for ``attribute``."""
    if attribute.kind is ValueKind.BOOLEAN:
        return st.booleans()
    if attribute.required:
        return st.text(min_size=1, max_size=20)
    if attribute.kind is ValueKind.EMAIL:
        return st.none() | _stored_email
    return st.none() | text


@st.composite
def profiles(draw: st.DrawFn) -> StaffProfile:
    """A stored profile with a value drawn for every kept attribute."""
    values = {a.field: draw(value_of(a)) for a in USER_ATTRIBUTES.attributes}
    return StaffProfile(user_name=str(values.pop("user_name"))).with_values(values)
