"""The simulated identity providers and the built-in scenarios, looked up by name."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulators.core.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    from simulators.core.dialect import Dialect, Variant

__all__ = ["IdpProfile", "builtin_scenarios", "find_scenario", "idp", "idps", "make_dialect"]

_PACKAGES = ("entra", "okta", "google")


@dataclass(frozen=True)
class IdpProfile:
    name: str
    title: str
    dialect: Dialect
    variants: dict[str, Variant]
    auth_kinds: tuple[str, ...]
    scenarios: tuple[dict[str, Any], ...]


@cache
def idps() -> dict[str, IdpProfile]:
    out = {}
    for name in _PACKAGES:
        module = importlib.import_module(f"simulators.{name}")
        out[name] = module.PROFILE
    return out


def idp(name: str) -> IdpProfile:
    try:
        return idps()[name]
    except KeyError:
        raise ValueError(f"unknown identity provider {name!r}; known: {sorted(idps())}") from None


def make_dialect(name: str, variants: tuple[str, ...] | list[str] = ()) -> Dialect:
    profile = idp(name)
    dialect = profile.dialect
    for variant in variants:
        if variant not in profile.variants:
            known = ", ".join(sorted(profile.variants)) or "none"
            raise ValueError(f"{name} has no variant {variant!r} (known: {known})")
        dialect = profile.variants[variant].apply(dialect, variant)
    return dialect


@cache
def builtin_scenarios() -> tuple[Scenario, ...]:
    from simulators.core.builtin import SCENARIOS  # noqa: PLC0415 - avoids an import cycle

    raws: list[dict[str, Any]] = []
    for profile in idps().values():
        raws.extend(profile.scenarios)
    raws.extend(SCENARIOS)
    scenarios = tuple(Scenario.from_dict(raw) for raw in raws)
    names = [s.name for s in scenarios]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"duplicate built-in scenarios: {sorted(duplicates)}")
    return scenarios


def find_scenario(name_or_path: str) -> Scenario:
    """A built-in scenario by name (case-insensitive), else a TOML file path."""
    for scenario in builtin_scenarios():
        if scenario.name.lower() == name_or_path.lower():
            return scenario
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return load_scenario(path)
    raise ValueError(f"no built-in scenario {name_or_path!r} and no such file (see: simulate list)")
