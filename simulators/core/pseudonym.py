"""Pseudonymising a trace: personal values become fake ones, consistently per trace.

A value is personal when it sits under a personal attribute (``userName``, name parts,
``displayName`` of a user, e-mail and phone values, addresses) in a body, in a PATCH
operation whose ``path`` names one, or in a filter comparing one (``userName eq "…"``).
Every such value gets one fake for the whole trace, compared case-insensitively (the IdPs'
sign-in lookups send a userName in capitals; the fake follows the case), and is replaced
wherever it appears whole: in bodies, filters and path segments. Ids, ``externalId`` and
group names are not personal and stay, so a pseudonymised trace still replays.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulators.core.trace import TraceExchange

__all__ = ["PERSONAL", "Pseudonymiser"]

PERSONAL = frozenset(
    {
        "username",
        "givenname",
        "familyname",
        "middlename",
        "formatted",
        "nickname",
        "honorificprefix",
        "honorificsuffix",
        "streetaddress",
        "locality",
        "postalcode",
    }
)
_LISTS = frozenset({"emails", "phonenumbers"})  # their ``value`` is personal
_USER_DISPLAY = "displayname"  # personal on users (not on groups: a group's name stays)
_FILTER = re.compile(
    r'([A-Za-z][\w.:]*)(\[[^\]]*\])?(\.\w+)?\s+(?:eq|co|sw|ew)\s+"((?:[^"\\]|\\.)*)"', re.I
)
_PHONE = re.compile(r"^\+?[\d\s().-]{6,}$")
_QUOTED = re.compile(r"\"((?:[^\"\\]|\\.)*)\"")


def _leaf(path: str) -> tuple[str, str]:
    """``emails[type eq "work"].value`` -> (``emails``, ``value``); ``name.givenName`` ->
    (``name``, ``givenname``); schema URN prefixes dropped."""
    path = path.rsplit(":", 1)[-1] if ":" in path.split("[", 1)[0] else path
    base = re.sub(r"\[[^\]]*\]", "", path).lower()
    parts = base.split(".")
    return parts[0], parts[-1]


def _is_personal(parent: str, key: str, user: bool) -> bool:
    return (
        key in PERSONAL
        or (key == "value" and parent in _LISTS)
        or (key == "display" and parent == "members")
        or (key == _USER_DISPLAY and user)
    )


def _name(key: str) -> str:
    """An attribute name, lower case, without its schema URN."""
    return key.rsplit(":", 1)[-1].lower()


class Pseudonymiser:
    def __init__(self) -> None:
        self.fakes: dict[str, str] = {}

    def fake(self, value: str) -> str:
        key = value.lower()
        if key not in self.fakes:
            n = len(self.fakes) + 1
            if "@" in value:
                self.fakes[key] = f"person{n}@pseudonym.example"
            elif _PHONE.match(value):  # still a phone number, so a server's checks pass
                self.fakes[key] = f"+1 555 {n // 10000:04d} {n % 10000:04d}"
            else:
                self.fakes[key] = f"Person{n}"
        return self.fakes[key]

    def _swap(self, value: str) -> str:
        fake = self.fakes.get(value.lower())
        if fake is None:
            return value
        return fake.upper() if value.isupper() else fake

    # finding personal values ---------------------------------------------------------------
    def _collect(self, value: Any, parent: str, key: str, user: bool) -> None:
        """``value`` sits under attribute ``key`` of an object that sits under ``parent``;
        a list's items sit under the list's own key."""
        if isinstance(value, str):
            if value and _is_personal(parent, key, user):
                self.fake(value)
        elif isinstance(value, list):
            for item in value:
                self._collect(item, parent, key, user)
        elif isinstance(value, dict):
            if isinstance(value.get("op"), str):
                self._operation(value, user)
            for k, v in value.items():
                self._collect(v, key, _name(k), user)

    def _operation(self, op: dict[str, Any], user: bool) -> None:
        """A PATCH operation naming a personal attribute in its ``path``."""
        path, value = op.get("path"), op.get("value")
        if not isinstance(path, str):
            return
        parent, leaf = _leaf(path)
        if isinstance(value, str) and _is_personal(parent, leaf, user):
            self.fake(value)
        elif isinstance(value, list | dict):
            self._collect(value, parent if leaf != parent else "", leaf, user)

    def _filters(self, text: str, user: bool) -> None:
        for match in _FILTER.finditer(text):
            parent, leaf = _leaf(match.group(1) + (match.group(3) or ""))
            if match.group(2) and not match.group(3):
                leaf = "value"
            if _is_personal(parent, leaf, user):
                self.fake(match.group(4))

    # replacing -----------------------------------------------------------------------------
    def _replace(self, value: Any) -> Any:
        if isinstance(value, str):
            swapped = self._swap(value)
            if swapped is not value:
                return swapped
            return _QUOTED.sub(lambda m: f'"{self._swap(m.group(1))}"', value)
        if isinstance(value, list):
            return [self._replace(v) for v in value]
        if isinstance(value, dict):
            return {k: self._replace(v) for k, v in value.items()}
        return value

    def apply(self, x: TraceExchange) -> None:
        """Register this exchange's personal values, then replace them in it."""
        user = x.path.lower().startswith(("/users", "/me"))
        for name, value in x.query:
            if name.lower() == "filter":
                self._filters(value, user)
        for body in (x.request_body, x.response_body):
            self._collect(body, "", "", user)
        x.query = [(k, self._replace(v)) for k, v in x.query]
        x.path = "/".join(self._swap(part) for part in x.path.split("/"))
        x.request_body = self._replace(x.request_body)
        x.response_body = self._replace(x.response_body)
