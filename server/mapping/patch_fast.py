"""The PATCH bodies identity providers send over and over, applied straight to the profile.

A User PATCH (RFC 7644 §3.5.2) normally goes record -> SCIM User -> PatchOp applied by
scim2-models -> record, and that round trip is most of the cost of the request. Identity
providers send a handful of shapes again and again: Entra one ``Add``/``Replace`` per
attribute with ``active`` as the string ``"True"``/``"False"`` (idp-behaviors §1.4), Okta a
path-less ``replace`` of ``{"active": false}`` (§2.4). This module recognises exactly those
shapes and says which profile fields they set. It answers None for anything else, and for
anything it is not certain the full path treats the same way (every error included), so the
full path keeps deciding those. tests/unit/test_patch_fast.py checks that equivalence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scim2_models import SCIMException

from server.domain.user_attributes import USER_ATTRIBUTES, Carrier, UserAttribute, ValueKind
from server.mapping.emails import normalized_email
from server.mapping.inbound import USER_PROFILE, keeps_path

if TYPE_CHECKING:
    from collections.abc import Callable

    from server.domain.staff import StaffProfile

__all__ = ["PATCH_SCHEMA", "ProfileChanges", "fast_patch"]

PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
_BODY_KEYS = frozenset({"schemas", "Operations"})
_OPERATION_KEYS = frozenset({"op", "path", "value"})
_SETTING_OPS = frozenset({"add", "replace"})  # op is case-insensitive for Entra's sake
# Only the spellings identity providers send; pydantic would accept "yes", "1", "on" too.
_BOOLEANS: dict[Any, bool] = {
    True: True,
    False: False,
    "True": True,
    "False": False,
    "true": True,
    "false": False,
}


_UNSURE = object()  # a value the full path may read differently: it decides


def _as_boolean(value: Any) -> Any:
    return _BOOLEANS[value] if isinstance(value, bool | str) and value in _BOOLEANS else _UNSURE


def _as_text(value: Any) -> Any:
    """A string as profile_from_scim keeps it: blank means absent."""
    if not isinstance(value, str):
        return _UNSURE
    return value if value.strip() else None


def _as_key(value: Any) -> Any:
    """A required attribute (userName) is stripped; a blank one (which the full path reads
    as blank, for the service to refuse) falls back."""
    if not isinstance(value, str):
        return _UNSURE
    return value.strip() or _UNSURE


def _as_email(value: Any) -> Any:
    """The address as scim2-models keeps it (domain lower-cased); one it refuses falls back."""
    if not isinstance(value, str):
        return _UNSURE
    try:
        return normalized_email(value)
    except ValueError:
        return _UNSURE


def _stripped(value: Any) -> Any:
    """How profile_from_scim reads a stored required attribute back: stripped."""
    return value.strip() if isinstance(value, str) else _UNSURE


def _reader(attribute: UserAttribute) -> Callable[[Any], Any]:
    if attribute.kind is ValueKind.BOOLEAN:
        return _as_boolean
    if attribute.required:
        return _as_key
    return _as_email if attribute.kind is ValueKind.EMAIL else _as_text


@dataclass(frozen=True, slots=True)
class _Paths:
    """Each settable kept attribute's path (as Entra spells it) -> (field, how its value is
    kept); the keys a path-less value may carry (filters are not attribute keys there)."""

    by_path: dict[str, tuple[str, Callable[[Any], Any]]]
    pathless: frozenset[str]
    readers: tuple[tuple[str, Callable[[Any], Any]], ...]


def _paths(attributes: tuple[UserAttribute, ...]) -> _Paths:
    settable = [a for a in attributes if a.mutability in {"readWrite", "writeOnly"}]
    return _Paths(
        by_path={a.path: (a.field, _reader(a)) for a in settable},
        pathless=frozenset(a.path for a in settable if a.carrier is not Carrier.TYPED),
        readers=tuple((a.field, _reader(a)) for a in attributes if a.kind is not ValueKind.BOOLEAN),
    )


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """The profile fields a PATCH body sets, in the order it sets them (the last one wins)."""

    fields: tuple[tuple[str, Any], ...]

    def apply(self, profile: StaffProfile) -> StaffProfile | None:
        """The profile after the changes, or None when the full path must decide: the round
        trip through a SCIM User also rewrites fields no operation names (a blank name becomes
        None, an email domain is lower-cased), so it alone knows stored values not in the form
        it writes."""
        if not _round_trips(profile):
            return None
        return profile.with_values(dict(self.fields)) if self.fields else profile


def _round_trips(profile: StaffProfile) -> bool:
    """Whether scim_from_staff + profile_from_scim gives this profile back unchanged: each
    stored text is read back as itself (absent stays absent)."""
    for field, read in USER_ATTRIBUTES.derived(_paths).readers:
        value = profile.value(field)
        if value is not None and read(value) != value:
            return False
    return True


def _setting(path: str, value: Any) -> tuple[str, Any] | None:
    """The (field, value) one accepted path and value set, or None when not certain."""
    found = USER_ATTRIBUTES.derived(_paths).by_path.get(path)
    if found is None:
        return None
    field, read = found
    kept = read(value)
    return None if kept is _UNSURE else (field, kept)


def _is_ignored_path(path: str) -> bool:
    """An attribute the platform does not keep: accepted_patch drops the whole operation."""
    try:
        return not keeps_path(path, USER_PROFILE)
    except SCIMException:  # an empty path: the full path's to report
        return False


def _operation_settings(operation: Any) -> list[tuple[str, Any]] | None:
    """What one operation sets, or None when the full path must decide."""
    if not isinstance(operation, dict) or not operation.keys() <= _OPERATION_KEYS:
        return None
    path, value = operation.get("path"), operation.get("value")
    if isinstance(path, str) and _is_ignored_path(path):
        return []
    op = operation.get("op")
    if not isinstance(op, str) or op.lower() not in _SETTING_OPS or value is None:
        return None
    if path is not None:
        setting = _setting(path, value) if isinstance(path, str) else None
        return None if setting is None else [setting]
    if not isinstance(value, dict):
        return None
    settings = []
    for key, item in value.items():
        if USER_PROFILE.canonical(key) is None:
            continue  # accepted_patch drops a key the platform does not keep, unread
        pathless = USER_ATTRIBUTES.derived(_paths).pathless
        setting = _setting(key, item) if key in pathless else None
        if setting is None:
            return None
        settings.append(setting)
    return settings


def fast_patch(body: dict[str, Any]) -> ProfileChanges | None:
    """The profile changes of a common PatchOp body, or None when the full path must decide."""
    if body.keys() != _BODY_KEYS or body["schemas"] != [PATCH_SCHEMA]:
        return None
    operations = body["Operations"]
    if not isinstance(operations, list) or not operations:
        return None
    fields: list[tuple[str, Any]] = []
    for operation in operations:
        settings = _operation_settings(operation)
        if settings is None:
            return None
        fields.extend(settings)
    return ProfileChanges(tuple(fields))
