"""Which stored field each filterable attribute path names, per resource type (RFC 7644
§3.4.2.2): for Users derived from the table of kept attributes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from server.domain.user_attributes import USER_ATTRIBUTES, Carrier, UserAttribute
from server.mapping.schema import GroupModel, UserModel

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["GROUP_FILTERS", "USER_FILTERS", "FilterSchema", "Mappings"]

Mappings = tuple[dict[str, str], dict[str, tuple[str, object]]]


@dataclass(frozen=True, slots=True)
class FilterSchema:
    """How one resource type's attribute paths (lower case, sub-attribute after a dot) map to
    stored fields, and which sub-attributes have one fixed value wherever they exist:
    ``source()`` gives both."""

    model: Any
    core_urn: str
    source: Callable[[], Mappings]

    @property
    def fields(self) -> dict[str, str]:
        return self.source()[0]

    @property
    def fixed(self) -> dict[str, tuple[str, object]]:
        return self.source()[1]


def _user_mappings(attributes: tuple[UserAttribute, ...]) -> Mappings:
    """From the table of kept attributes. A kept multi-valued attribute holds one element,
    of one type (and primary, if written so)."""
    fields = {"id": "id", "meta.created": "created_at", "meta.lastmodified": "updated_at"}
    fixed: dict[str, tuple[str, object]] = {"meta.resourcetype": ("id", "User")}
    for attribute in attributes:
        top = attribute.scim.lower()
        if attribute.carrier is Carrier.SIMPLE:
            fields[top] = attribute.field
        elif attribute.carrier is Carrier.SUB:
            fields[f"{top}.{(attribute.sub or '').lower()}"] = attribute.field
        else:
            fields[top] = fields[f"{top}.value"] = attribute.field
            fixed[f"{top}.type"] = (attribute.field, attribute.element_type)
            if attribute.primary:
                fixed[f"{top}.primary"] = (attribute.field, True)
    return fields, fixed


USER_FILTERS = FilterSchema(
    model=UserModel,
    core_urn="urn:ietf:params:scim:schemas:core:2.0:user",
    source=lambda: USER_ATTRIBUTES.derived(_user_mappings),
)

_GROUP_MAPPINGS: Mappings = (
    {
        "id": "id",
        "displayname": "display_name",
        "externalid": "external_id",
        "members": "member",
        "members.value": "member",
        "meta.created": "created_at",
        "meta.lastmodified": "updated_at",
    },
    {"members.type": ("member", "User"), "meta.resourcetype": ("id", "Group")},
)
GROUP_FILTERS = FilterSchema(
    model=GroupModel,
    core_urn="urn:ietf:params:scim:schemas:core:2.0:group",
    source=lambda: _GROUP_MAPPINGS,
)
