"""Expectations in words: the sentence that names an expectation written without ``name``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["default_name", "looked_for", "responses_sentence"]


def looked_for(a: dict[str, Any]) -> str:
    """The exchanges an expectation selects, in words: "the user.deactivate requests for
    user0 in step due"."""
    what = f"{a['label']} requests" if a.get("label") else "requests"
    if a.get("method"):
        what = f"{str(a['method']).upper()} {what}"
    if a.get("person"):
        what += f" for {a['person']}"
    elif a.get("subject"):
        what += f" for {a['subject']}"
    if a.get("path"):
        what += f" to {a['path']}"
    if a.get("step"):
        what += f" in step {a['step']}"
    return f"the {what}"


def _statuses(codes: list[int]) -> str:
    return " or ".join(str(c) for c in codes)


def responses_sentence(a: dict[str, Any]) -> str:
    """What a ``responses`` expectation asks, as a sentence (its default name)."""
    parts = [looked_for(a)]
    if "status" in a:
        parts.append(f"answered {_statuses(a['status'])}")
    if "count" in a:
        parts.append(f"({a['count']} of them)")
    elif a.get("max_count") == 0:
        parts.append("(none of them)")
    if a.get("once_each"):
        parts.append("once for each object")
    return " ".join(parts)


def _user_sentence(a: dict[str, Any]) -> str:
    who = f"the server's account for {a.get('person', '?')}"
    if not a.get("present", True):
        return f"{who} is gone (GET answers 404)"
    parts = []
    if "active" in a:
        parts.append("is active" if a["active"] else "is inactive")
    if "attributes" in a:
        parts.append("has " + ", ".join(f"{k} = {v!r}" for k, v in a["attributes"].items()))
    if not parts:
        parts.append("matches the directory")
    return f"{who} " + " and ".join(parts)


def _lookup_sentence(a: dict[str, Any]) -> str:
    attribute, count = a.get("attribute", "userName"), a.get("count", 1)
    value = repr(a["value"]) if "value" in a else f"{a.get('person', '?')}'s userName"
    case = " in upper case" if a.get("upper") else ""
    state = "" if "active" not in a else (" (active)" if a["active"] else " (inactive)")
    return f"a filter {attribute} eq {value}{case} finds {count} user(s){state}"


def _failures_sentence(a: dict[str, Any]) -> str:
    if a.get("none"):
        return "no failure is left outstanding"
    who = f"user {a['person']}" if "person" in a else f"group {a.get('group', '?')}"
    status = f" with {a['status']}" if "status" in a else ""
    return f"the write of {who} failed{status} and was kept for retry ({a.get('policy', 'any')})"


_SENTENCES: dict[str, Callable[[dict[str, Any]], str]] = {
    "responses": responses_sentence,
    "no_requests": lambda a: f"no {looked_for(a).removeprefix('the ')} were sent",
    "users_in_sync": lambda a: (
        f"the server's accounts of {', '.join(a['people'])} match the directory"
        if a.get("people")
        else "every account on the server matches the directory"
    ),
    "user": _user_sentence,
    "lookup": _lookup_sentence,
    "groups_in_sync": lambda a: (
        f"the server's groups {', '.join(a['groups'])} match the directory"
        if a.get("groups")
        else "every group on the server matches the directory"
    ),
    "group": lambda a: (
        f"group {a.get('group', '?')} has the members "
        + (", ".join(a["members"]) if "members" in a else "the directory gives it")
    ),
    "quarantine": lambda a: (
        "the job was quarantined" if a.get("entered", True) else "the job was not quarantined"
    ),
    "waits": lambda a: f"the client waited at least {a.get('min', 0)} {a.get('count', 1)} time(s)",
    "failures": _failures_sentence,
    "connection": lambda a: (
        "the connection test passed" if a.get("ok", True) else "the connection test failed"
    ),
    "pages": lambda a: f"the paged import ({a.get('label', 'import.page')}) saw every user once",
    "timeouts": lambda a: f"{a.get('count', 1)} request(s) timed out",
}


def default_name(kind: str, args: dict[str, Any]) -> str | None:
    """A sentence for an expectation without a ``name``: what it checks, in words."""
    sentence = _SENTENCES.get(kind)
    return None if sentence is None else sentence(args)
