"""What of a request body is even looked at: the accepted attributes, before validation.

The platform keeps a fixed set of attributes and ignores the rest "without error". Reading
only those keys before scim2-models validates means an attribute we do not keep cannot fail a
request either, whatever its shape (Entra's bare-string ``manager``, roles whose values are
JSON strings, vendor extensions). Keys are matched case-insensitively (RFC 7643 §2.1) and may
carry the core schema URN. PATCH operations whose path names an attribute we do not keep are
dropped; a path that does not parse stays, so scim2-models answers ``invalidPath``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scim2_models import InvalidPathException, Path, SCIMException

from server.domain.user_attributes import USER_ATTRIBUTES, Carrier, UserAttribute

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "GROUP_PROFILE",
    "USER_PROFILE",
    "Profile",
    "accepted_patch",
    "accepted_resource",
    "keeps_path",
]

_PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:patchop"
# Read-only attributes: a path-less value may carry them (ignored); a path naming them is a
# mutability error, which scim2-models raises.
_READ_ONLY = frozenset({"id", "meta", "schemas", "groups"})


@dataclass(frozen=True, slots=True)
class Profile:
    """The accepted attributes of one resource type: ``source()`` gives each lower-case
    top-level name -> its allowed sub-attributes (``None`` for a simple attribute)."""

    core_urn: str
    source: Callable[[], dict[str, frozenset[str] | None]]

    @property
    def attributes(self) -> dict[str, frozenset[str] | None]:
        return self.source()

    def canonical(self, key: str) -> str | None:
        """The accepted top-level name a body key stands for, or None."""
        lowered = key.lower()
        prefix = self.core_urn.lower() + ":"
        if lowered.startswith(prefix):
            lowered = lowered[len(prefix) :]
        if lowered.startswith("urn:"):
            return None
        root = lowered.split(".", 1)[0].split("[", 1)[0]
        return root if root in self.attributes else None


_VALUE_SUBS = frozenset({"value", "type", "primary", "display"})


def _user_attributes(attributes: tuple[UserAttribute, ...]) -> dict[str, frozenset[str] | None]:
    kept: dict[str, frozenset[str] | None] = {}
    for attribute in attributes:
        root = attribute.scim.lower()
        if attribute.carrier is Carrier.SUB:
            assert attribute.sub is not None
            kept[root] = (kept.get(root) or frozenset()) | {attribute.sub.lower()}
        elif attribute.carrier is Carrier.TYPED:
            kept[root] = _VALUE_SUBS
        else:
            kept[root] = None
    return kept


USER_PROFILE = Profile(
    core_urn="urn:ietf:params:scim:schemas:core:2.0:User",
    source=lambda: USER_ATTRIBUTES.derived(_user_attributes),
)

_GROUP_ATTRIBUTES: dict[str, frozenset[str] | None] = {
    "displayname": None,
    "externalid": None,
    "members": frozenset({"value", "type", "display"}),
}
GROUP_PROFILE = Profile(
    core_urn="urn:ietf:params:scim:schemas:core:2.0:Group",
    source=lambda: _GROUP_ATTRIBUTES,
)


def _filtered(value: Any, subs: frozenset[str] | None) -> Any:
    if subs is None:
        return value
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k.lower() in subs}
    if isinstance(value, list):
        return [_filtered(item, subs) for item in value]
    return value


def _accepted_values(body: dict[str, Any], profile: Profile) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in body.items():
        root = profile.canonical(key)
        if root is None:
            continue
        if "." in key.lower().removeprefix(profile.core_urn.lower() + ":"):
            # A dotted key (name.givenName) in a path-less PATCH value: keep known subs only.
            sub = key.rsplit(".", 1)[1].lower()
            subs = profile.attributes[root]
            if subs is not None and sub in subs:
                kept[key] = value
            continue
        kept[key] = _filtered(value, profile.attributes[root])
    return kept


def accepted_resource(body: dict[str, Any], profile: Profile) -> dict[str, Any]:
    """A resource body (POST, PUT) reduced to ``schemas`` and the accepted attributes."""
    kept = _accepted_values(body, profile)
    for key, value in body.items():
        if key.lower() == "schemas":
            kept[key] = value
    return kept


def keeps_path(path: Any, profile: Profile) -> bool:
    """Whether ``accepted_patch`` keeps an operation with this path (an unparsable one stays,
    for validation to refuse; an empty one raises ``invalidPath``)."""
    if not isinstance(path, str):
        return True  # not a string: let validation refuse it
    if not path.strip():
        raise InvalidPathException(detail="an empty path names no attribute")
    try:
        Path(path)
    except (ValueError, TypeError, SCIMException):
        return True  # malformed: let validation answer invalidPath
    lowered = path.lower().removeprefix(profile.core_urn.lower() + ":")
    if lowered.split(".", 1)[0].split("[", 1)[0] in _READ_ONLY:
        return True
    root = profile.canonical(path)
    if root is None:
        return False
    subs = profile.attributes[root]
    if subs is not None and "." in lowered and "[" not in lowered:
        # name.middleName: a sub-attribute the platform does not keep is ignored too.
        return lowered.rsplit(".", 1)[1] in subs
    return True


def accepted_patch(body: dict[str, Any], profile: Profile) -> dict[str, Any]:
    """A PatchOp body keeping only operations on accepted attributes (RFC 7644 §3.5.2)."""
    result = dict(body)
    for key, operations in body.items():
        if key.lower() != "operations" or not isinstance(operations, list):
            continue
        kept_operations = []
        for operation in operations:
            if not isinstance(operation, dict):
                kept_operations.append(operation)
                continue
            fields = {k.lower(): k for k in operation}
            path = operation.get(fields["path"]) if "path" in fields else None
            value = operation.get(fields["value"]) if "value" in fields else None
            if path is None and isinstance(value, dict):
                cleaned = _accepted_values(value, profile)
                kept_operations.append({**operation, fields["value"]: cleaned})
            elif path is None:
                kept_operations.append(operation)
            elif keeps_path(path, profile):
                root = profile.canonical(path) if isinstance(path, str) else None
                if root is not None and path.lower().endswith(root) and "value" in fields:
                    # A whole complex attribute ("name", "emails"): keep known subs only.
                    value = _filtered(value, profile.attributes[root])
                    kept_operations.append({**operation, fields["value"]: value})
                else:
                    kept_operations.append(operation)
        del result[key]
        result["Operations"] = kept_operations
    return result
