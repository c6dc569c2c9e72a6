"""Structured logs: one JSON object per line, each carrying the request id.

Every record gets the id of the request being handled when it is created (a record factory
reads the context variable), so the id survives Litestar's queue handler, which formats in
another thread. Lines outside any request (start-up, shutdown) carry ``"request_id": null``.
The app's root logger (Litestar's logging config) and granian's loggers (see
``server.ops.serving``) use ``JsonFormatter``, so everything ``scimlab serve`` prints is JSON.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from litestar.logging.config import LoggingConfig

from server.ops.context import request_id_var

__all__ = ["JsonFormatter", "install_request_ids", "logging_config"]

# LogRecord attributes that are not extra fields.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


def _iso_z(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``, as every JSON output writes dates."""
    return moment.isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "request_id", "pid", ...extra, "exc"?}``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _iso_z(datetime.fromtimestamp(record.created, UTC)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "pid": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The exception's type and a trace for operators; never sent to a client.
            entry["exc_type"] = record.exc_info[0].__name__
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def install_request_ids() -> None:
    """Stamp every new log record with the current request id (idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_scimlab", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_id_var.get()
        return record

    factory._scimlab = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def logging_config(level: str) -> LoggingConfig:
    """Litestar's logging set-up (root and ``litestar`` loggers) with JSON lines."""
    return LoggingConfig(
        formatters={"standard": {"()": "server.ops.logs.JsonFormatter"}},
        root={"level": level, "handlers": ["queue_listener"]},
        loggers={
            "litestar": {"level": "INFO", "handlers": ["queue_listener"], "propagate": False},
            "scimlab": {"level": level, "propagate": True},
            # pysaml2 logs every refused SAML response at ERROR, with xmlsec1's output; the
            # refusal is audited instead (``sso.refused`` with its reason).
            "saml2": {"level": "CRITICAL", "propagate": True},
        },
        log_exceptions="never",
    )
