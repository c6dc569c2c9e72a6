"""A trace as a scenario file QA can edit and keep (``simulate replay TRACE --to-scenario``).

Each SCIM exchange becomes a ``request`` step (method, path, query, and the body as JSON in a
multi-line string, so nothing is lost in translation) and a ``responses`` expectation on its
status (and ``scimType`` for an error). An id the recorded server assigned becomes a named
reference: the step that created it saves the new id (``save_id = "user1"``) and later steps
say ``{ref:user1}`` where they used it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from simulators.core.replay import IdMap

if TYPE_CHECKING:
    from simulators.core.trace import Trace

__all__ = ["trace_to_scenario"]


def _string(text: str) -> str:
    return json.dumps(text).replace("\x7f", "\\u007f")  # a JSON string is a TOML basic string


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_string(k)} = {_value(v)}" for k, v in value.items()) + " }"
    return _string(str(value))


def _json_block(body: Any) -> str:
    text = json.dumps(body, indent=2, ensure_ascii=False)
    if "'''" in text or "\x7f" in text or any(ord(c) < 32 and c not in "\n\t" for c in text):
        return _string(text)
    return f"'''\n{text}\n'''"


def _kind(path: str) -> str:
    first = path.strip("/").split("/", 1)[0].lower()
    return {"users": "user", "groups": "group"}.get(first, "ref")


def trace_to_scenario(trace: Trace, name: str) -> str:
    """The TOML text of a scenario replaying ``trace``'s SCIM exchanges in order."""
    refs, counts = IdMap(), {"user": 0, "group": 0, "ref": 0}
    lines = [
        f"name = {_string(name)}",
        f"title = {_string(f'Replay of {name} (from a recorded trace)')}",
        "",
    ]
    checks: list[str] = []
    for x in trace.scim:
        label = f"replay.{x.seq}"
        path = "/".join(refs.text(part) for part in x.path.split("/"))
        lines += [
            "[[steps]]",
            'do = "request"',
            f"id = {_string(f'r{x.seq}')}",
            f"method = {_string(x.method)}",
            f"path = {_string(path)}",
            f"label = {_string(label)}",
            f"ok = [{x.status}]",
        ]
        if x.query:
            query = {k: refs.text(v) if k.lower() == "filter" else v for k, v in x.query}
            lines.append(f"query = {_value(query)}")
        if x.request_body is not None:
            lines.append(f"json = {_json_block(refs.value(x.request_body))}")
        body = x.response_body
        new_id = body.get("id") if isinstance(body, dict) else None
        if x.status in (200, 201) and isinstance(new_id, str) and new_id not in refs.ids:
            kind = _kind(x.path)
            counts[kind] += 1
            ref = f"{kind}{counts[kind]}"
            refs.ids[new_id] = f"{{ref:{ref}}}"
            lines.append(f"save_id = {_string(ref)}")
        lines.append("")
        check = [
            "[[expect]]",
            f"id = {_string(f'r{x.seq}')}",
            'kind = "responses"',
            f"label = {_string(label)}",
            f"status = [{x.status}]",
        ]
        if isinstance(body, dict) and isinstance(body.get("scimType"), str):
            check.append(f"scim_type = {_string(body['scimType'])}")
        checks += [*check, ""]
    return "\n".join(lines + checks)
