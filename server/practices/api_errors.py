"""Management API errors for bodies that could not be read, said in words.

Litestar reports a missing body as ``{"message": "'data'", "key": "data"}`` and a wrong field
in msgspec's terms; an administrator scripting against the API needs to know which field is
wrong and what was expected. Every controller of the management API registers
:data:`API_EXCEPTION_HANDLERS`.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Response
from litestar.exceptions import ClientException, SerializationException, ValidationException

if TYPE_CHECKING:
    from litestar import Request
    from litestar.types import ExceptionHandlersMap

__all__ = ["API_EXCEPTION_HANDLERS", "body_problem"]

_JSON_TYPES = {
    "str": "a string",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "null": "null",
    "object": "a JSON object",
    "array": "a list",
    "uuid": "an id (UUID)",
}
_EXPECTED = re.compile(r"Expected `([^`]+)`, got `([^`]+)`")
_MISSING = re.compile(r"Object missing required field `([^`]+)`")
_UNKNOWN = re.compile(r"Object contains unknown field `([^`]+)`")


def _words(kind: str) -> str:
    return " or ".join(_JSON_TYPES.get(part.strip(), part.strip()) for part in kind.split("|"))


def _fields(body_type: Any) -> tuple[list[str], list[str]]:
    """The required and optional fields of a handler's body type."""
    if isinstance(body_type, type) and issubclass(body_type, msgspec.Struct):
        infos = msgspec.structs.fields(body_type)
        return [f.name for f in infos if f.required], [f.name for f in infos if not f.required]
    if dataclasses.is_dataclass(body_type):
        fields = dataclasses.fields(body_type)
        required = [
            f.name
            for f in fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
        return required, [f.name for f in fields if f.name not in required]
    return [], []


def _takes(body_type: Any) -> str:
    required, optional = _fields(body_type)
    if not required and not optional:
        return "a JSON object"
    named = ", ".join(f'"{name}"' for name in required) or "no required field"
    extra = f" (optional: {', '.join(f'{name!r}' for name in optional)})" if optional else ""
    return f"a JSON object with {named}{extra}".replace("'", '"')


def body_problem(message: str, key: str | None, body_type: Any) -> tuple[str | None, str]:
    """The field a validation message is about (None: the body as a whole) and a sentence."""
    if key == "data" and message.strip("'") == "data":
        return None, f"the request has no JSON body; this call takes {_takes(body_type)}"
    if found := _MISSING.search(message):
        return found[1], f'the field "{found[1]}" is missing; this call takes {_takes(body_type)}'
    if found := _UNKNOWN.search(message):
        name = found[1]
        return name, f'"{name}" is not a field of this call, which takes {_takes(body_type)}'
    field = None if key in {None, "data"} else key
    if found := _EXPECTED.search(message):
        expected, got = _words(found[1]), _words(found[2])
        if field is None:
            return (
                None,
                f"the body must be {expected}, not {got}; this call takes {_takes(body_type)}",
            )
        return field, f'the field "{field}" must be {expected}, not {got}'
    if field is None:
        return None, f"the body could not be read ({message}); this call takes {_takes(body_type)}"
    return field, f'the field "{field}" is not valid: {message}'


def _body_type(request: Request[Any, Any, Any]) -> Any:
    parameter = request.route_handler.parsed_fn_signature.parameters.get("data")
    return None if parameter is None else parameter.annotation


def _client_error(request: Request[Any, Any, Any], exc: ClientException) -> Response[Any]:
    body_type = _body_type(request)
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        problems = [
            body_problem(str(item.get("message", "")), item.get("key"), body_type)
            for item in exc.extra
            if isinstance(item, dict)
        ]
        detail = "; ".join(sentence for _, sentence in problems) or str(exc.detail)
        extra = [{"field": field, "message": sentence} for field, sentence in problems]
        payload = {"status_code": exc.status_code, "detail": detail, "extra": extra}
    elif isinstance(exc.__cause__, SerializationException):
        takes = _takes(body_type)
        detail = f"the request body is not valid JSON ({exc.detail}); this call takes {takes}"
        payload = {"status_code": exc.status_code, "detail": detail}
    else:
        payload = {"status_code": exc.status_code, "detail": exc.detail}
        if exc.extra:
            payload["extra"] = exc.extra
    return Response(payload, status_code=exc.status_code, headers=dict(exc.headers or {}))


API_EXCEPTION_HANDLERS: ExceptionHandlersMap = {ClientException: _client_error}
