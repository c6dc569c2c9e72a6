"""The outcome of one expectation, and how exchanges are shown in failure details."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulators.core.recorder import Exchange
    from simulators.core.scenario import Expectation

__all__ = ["ExpectationResult", "result", "show"]


@dataclass
class ExpectationResult:
    id: str
    name: str
    kind: str
    status: str  # passed | failed | n/a
    detail: str = ""


def result(e: Expectation, problems: list[str], ok_detail: str = "") -> ExpectationResult:
    if problems:
        return ExpectationResult(e.id, e.name, e.kind, "failed", "; ".join(problems[:5]))
    return ExpectationResult(e.id, e.name, e.kind, "passed", ok_detail)


def show(x: Exchange) -> str:
    outcome = x.status if x.status is not None else x.error
    detail = ""
    if isinstance(x.response_body, dict):
        detail = " ".join(
            str(x.response_body[k]) for k in ("scimType", "detail") if x.response_body.get(k)
        )
    where = x.url.split("/scim/v2/")[-1]
    return f"#{x.seq} {x.label} {x.method} {where} -> {outcome} {detail}".strip()
