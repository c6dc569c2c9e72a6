"""The check registry: every check has a stable id, a one-line title, the rule it checks and an
area (which is also its pytest marker).

Area modules declare checks with :func:`check`; the order of declaration is the order of a run,
except that checks marked ``last`` (the ones that rotate, pause or delete the target's
credentials) run after every other check.
"""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    from conformance.session import Session

__all__ = ["AREAS", "PROFILES", "Area", "Check", "all_checks", "check", "parse_areas"]

#: ``rfc``: only what RFC 7643/7644, RFC 6749/6750 (and the RFCs they build on) require, so a
#: third-party server is not failed for the platform's policy. ``platform`` (the default) adds
#: the platform's rules (accepted attributes, deactivation, SSO linking, tenancy) and what
#: identity providers need.
PROFILES = ("rfc", "platform")


class Area(Enum):
    """An area of the suites: ``code`` prefixes check ids, ``marker`` names the pytest marker."""

    TOKEN_AUTH = ("TA", "token_auth", "Token auth")
    ATTRIBUTE_FILTERING = ("AF", "attribute_filtering", "Attribute filtering")
    DEACTIVATION = ("DA", "deactivation", "Deactivation")
    SSO_LINKING = ("SL", "sso_linking", "SSO linking")
    RFC_CORE = ("RC", "rfc_core", "RFC core")
    TENANCY = ("TI", "tenancy", "Tenancy")
    IDP_READINESS = ("IR", "idp_readiness", "IdP readiness")

    def __init__(self, code: str, marker: str, label: str) -> None:
        self.code = code
        self.marker = marker
        self.label = label


AREAS: tuple[Area, ...] = tuple(Area)
_AREA_MODULES = (
    "conformance.token_auth",
    "conformance.attribute_filtering",
    "conformance.queries",
    "conformance.deactivation",
    "conformance.sso_linking",
    "conformance.saml_checks",
    "conformance.rfc_core",
    "conformance.tenancy",
    "conformance.idp_readiness",
)
_ID = re.compile(r"^(?P<code>[A-Z]{2})-\d{3}$")


@dataclass(frozen=True, slots=True)
class Check:
    """One check: ``run`` talks to the target only through the session it is given."""

    id: str
    title: str
    rule: str
    area: Area
    run: Callable[[Session], Awaitable[None]]
    doc: str
    last: bool = False

    @property
    def profile(self) -> str:
        """``rfc`` when every rule the check cites is an RFC's, else ``platform``."""
        parts = [part.strip() for part in self.rule.split(";")]
        return "rfc" if all(part.startswith("RFC ") for part in parts) else "platform"


_REGISTRY: dict[str, Check] = {}


def check(
    check_id: str, title: str, *, rule: str, last: bool = False
) -> Callable[[Callable[[Session], Awaitable[None]]], Callable[[Session], Awaitable[None]]]:
    """Register the decorated coroutine as check ``check_id`` (for example ``TA-003``)."""
    match = _ID.match(check_id)
    if match is None:
        raise ValueError(f"check id {check_id!r} is not like TA-003")
    area = next((a for a in AREAS if a.code == match["code"]), None)
    if area is None:
        raise ValueError(f"check id {check_id!r} names no area")

    def register(
        function: Callable[[Session], Awaitable[None]],
    ) -> Callable[[Session], Awaitable[None]]:
        if check_id in _REGISTRY:
            raise ValueError(f"check id {check_id} is registered twice")
        doc = inspect.cleandoc(function.__doc__ or "")
        if not doc:
            raise ValueError(f"check {check_id} needs a docstring citing its rule")
        _REGISTRY[check_id] = Check(check_id, title, rule, area, function, doc, last)
        return function

    return register


def all_checks(areas: Iterable[Area] | None = None, *, profile: str = "platform") -> list[Check]:
    """The registered checks of ``areas`` (all when ``None``) in ``profile``, in run order."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    for module in _AREA_MODULES:
        importlib.import_module(module)
    wanted = set(AREAS if areas is None else areas)
    chosen = [
        c
        for c in _REGISTRY.values()
        if c.area in wanted and (profile == "platform" or c.profile == "rfc")
    ]
    return [c for c in chosen if not c.last] + [c for c in chosen if c.last]


def parse_areas(names: Iterable[str]) -> list[Area]:
    """Areas from codes or names, any case (``TA``, ``token_auth``, ``token-auth``)."""
    found: list[Area] = []
    for raw in names:
        key = raw.strip().lower().replace("-", "_")
        area = next((a for a in AREAS if key in (a.code.lower(), a.marker)), None)
        if area is None:
            known = ", ".join(f"{a.code} ({a.marker})" for a in AREAS)
            raise ValueError(f"unknown area {raw!r}; known: {known}")
        if area not in found:
            found.append(area)
    return found
