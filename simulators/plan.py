"""What one ``scimlab simulate <idp>`` invocation will play, and what it needs first.

Selection: every scenario asked for is either played or skipped with a reason, and both kinds
reach the reports. Scenarios that rotate the practice's client secret (or static token) are
destructive: ``--scenario all`` plays them only with ``--allow-rotation``; naming one plays it.
A built-in scenario with a version written for a ``--variant`` (``G-02`` and ``G-02-delete``)
plays that version.

Preflight: the URLs are checked before anything is sent, and the platform (for rotation) is
asked once whether it knows the administrator key, so a wrong value gives a sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from simulators.core.registry import builtin_scenarios, find_scenario

if TYPE_CHECKING:
    from simulators.core.auth import Credentials
    from simulators.core.scenario import Scenario

__all__ = [
    "PlanError",
    "Selection",
    "Skipped",
    "check_platform",
    "check_url",
    "describe_error",
    "management_url",
    "scimlab_version",
    "select",
]

_PRACTICE = re.compile(r"/scim/v2/([^/?#]+)/?$")


class PlanError(ValueError):
    """A value of the command line that cannot work, said as a sentence."""


@dataclass(frozen=True)
class Skipped:
    """A scenario that was asked for and not played."""

    name: str
    title: str
    reason: str


@dataclass
class Selection:
    played: list[Scenario] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _variant_version(scenario: Scenario, variants: tuple[str, ...]) -> Scenario:
    """``G-02`` with ``--variant delete`` is ``G-02-delete``: the version whose expectations
    were written for that variant (the plain one expects a suspension)."""
    for variant in variants:
        for candidate in builtin_scenarios():
            if candidate.name == f"{scenario.name}-{variant}" and variant in candidate.variants:
                return candidate
    return scenario


def _unmet(scenario: Scenario, credentials: Credentials, can_rotate: bool) -> str | None:
    if scenario.auth and credentials.kind not in scenario.auth:
        return f"needs {' or '.join(scenario.auth)} authentication"
    if scenario.needs_rotator and not can_rotate:
        return "uses scimlab's management API: needs --platform-url and --admin-key"
    return None


def select(
    idp: str,
    names: tuple[str, ...],
    variants: tuple[str, ...],
    credentials: Credentials,
    *,
    can_rotate: bool,
    allow_rotation: bool,
) -> Selection:
    """The scenarios to play and the ones skipped; a scenario named that cannot be played
    at all raises :class:`PlanError`."""
    chosen = Selection()
    for wanted in names:
        if wanted == "all":
            for s in builtin_scenarios():
                if not s.supports(idp):
                    continue
                why = _unmet(s, credentials, can_rotate)
                if why is None and s.rotates_secret and not allow_rotation:
                    why = "rotates the practice's client secret: name it or add --allow-rotation"
                if why is None:
                    chosen.played.append(s)
                else:
                    chosen.skipped.append(Skipped(s.name, s.title, why))
            continue
        try:
            scenario = find_scenario(wanted)
        except ValueError as error:
            raise PlanError(str(error)) from None
        if not scenario.supports(idp):
            raise PlanError(f"{scenario.name} is for {', '.join(scenario.idps)}")
        played = _variant_version(scenario, variants)
        if played is not scenario:
            chosen.notes.append(
                f"{scenario.name} with --variant {' '.join(played.variants)} plays {played.name}"
            )
        if (why := _unmet(played, credentials, can_rotate)) is not None:
            raise PlanError(f"{played.name} {why}")
        chosen.played.append(played)
    return chosen


def check_url(option: str, url: str | None) -> None:
    if url is None:
        return
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        msg = f"{option} must be an http:// or https:// URL with a host, not {url!r}"
        raise PlanError(msg)


def management_url(platform_url: str, scim_url: str) -> str:
    """scimlab's management API of the practice whose SCIM base URL is ``scim_url``."""
    found = _PRACTICE.search(urlsplit(scim_url).path)
    if found is None:
        msg = (
            "--platform-url needs a --scim-url of the form <base>/scim/v2/<practice id>, "
            f"not {scim_url!r}"
        )
        raise PlanError(msg)
    return f"{platform_url.rstrip('/')}/api/v1/practices/{found[1]}/scim"


def describe_error(error: httpx.HTTPError) -> str:
    """An httpx failure as a short reason (no traceback, no secrets)."""
    if isinstance(error, httpx.ConnectError):
        return "nothing answers there (connection refused or host unknown)"
    if isinstance(error, httpx.TimeoutException):
        return "it did not answer in time"
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "it is not a URL httpx can use"
    return type(error).__name__


async def check_platform(client: httpx.AsyncClient, url: str, admin_key: str) -> None:
    """One GET of the practice's SCIM configuration: the platform answers and knows the key."""
    try:
        response = await client.get(url, headers={"Authorization": f"Bearer {admin_key}"})
    except httpx.HTTPError as error:
        raise PlanError(f"cannot reach --platform-url ({url}): {describe_error(error)}") from None
    if response.status_code == 401:
        raise PlanError(f"{url} refused --admin-key (401): give the practice admin's API key")
    if response.status_code == 404:
        msg = (
            f"{url} answered 404: --platform-url must be the server's base URL and --admin-key "
            "an administrator key of the practice in --scim-url"
        )
        raise PlanError(msg)


def scimlab_version() -> str:
    try:
        return version("scimlab")
    except PackageNotFoundError:
        return "unknown"


def options_of(**values: Any) -> dict[str, Any]:
    """The options a report records (never a secret)."""
    return {k: v for k, v in values.items() if v not in (None, (), [])}
