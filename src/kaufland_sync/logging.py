"""Structured logging for kaufland-sync, with secrets redacted before anything is written.

``configure()`` is called by entry points (CLI, server), never at import time. The redaction
processor masks values of keys that look secret (``secret``, ``signature``, ``password``,
``token``, ``authorization``…) wherever they appear in an event, including nested dicts, so a
careless ``log.info("call", headers=headers)`` cannot leak a Shop-Signature or a secret key.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

_SECRET_KEY_NAME = re.compile(
    r"(secret|signature|password|passwd|token|authorization|api[_-]?key|master[_-]?key)", re.I
)
REDACTED = "***"


def redact(value: Any, key: str = "") -> Any:
    """Return ``value`` with every secret-looking entry replaced by ``***``."""
    if key and _SECRET_KEY_NAME.search(key):
        return REDACTED
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    return value


def _redact_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        event_dict[key] = redact(event_dict[key], key)
    return event_dict


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time of writing (test runners swap it), so
    log lines never land in a command's stdout (which may be JSON or CSV)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(level: str = "INFO", *, json: bool = False) -> None:
    """Set up structlog and the standard library's logging to write to stderr."""
    logging.basicConfig(stream=sys.stderr, level=level.upper(), format="%(message)s")
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
