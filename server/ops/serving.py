"""What ``scimlab serve`` hands granian: JSON-lines logging and multi-process metrics.

Kept free of prometheus-client imports: the client reads ``PROMETHEUS_MULTIPROC_DIR`` when
it is first imported, and granian forks its workers from the process that calls this.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["granian_options"]

_MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"


def _granian_log_config() -> dict[str, Any]:
    return {
        "formatters": {"json": {"()": "server.ops.logs.JsonFormatter"}},
        "handlers": {
            "json": {
                "formatter": "json",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "_granian": {"handlers": ["json"], "level": "INFO", "propagate": False},
            "granian.access": {"handlers": ["json"], "level": "INFO", "propagate": False},
        },
    }


def _prepare_multiprocess_metrics(workers: int) -> None:
    """A fresh directory where every worker writes its samples, read by ``GET /metrics``."""
    if workers <= 1:
        return
    directory = os.environ.get(_MULTIPROC)
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)
    else:
        os.environ[_MULTIPROC] = tempfile.mkdtemp(prefix="scimlab-metrics-")


def granian_options(workers: int) -> dict[str, Any]:
    """Extra keyword arguments for ``Granian(...)``; call before any worker starts."""
    _prepare_multiprocess_metrics(workers)
    return {"log_dictconfig": _granian_log_config()}
