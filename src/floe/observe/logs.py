"""Structured logs (structlog): JSON when stderr is not a terminal, trace/span ids on every
line written inside a span, secret-looking values redacted.

Both structlog loggers and the standard ``logging`` loggers under ``floe`` are rendered by
the same handler, so warnings of the observability backends carry the ids too.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace
from opentelemetry.trace import format_span_id, format_trace_id

_HANDLER_NAME = "floe-structlog"
_SECRET_KEY = re.compile(r"(secret|password|passwd|token|api_?key|credential)", re.IGNORECASE)
EventDict = MutableMapping[str, Any]


def add_trace_ids(_: Any, __: str, event: EventDict) -> EventDict:
    """``trace_id`` and ``span_id`` of the current span, when there is one."""
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event["trace_id"] = format_trace_id(ctx.trace_id)
        event["span_id"] = format_span_id(ctx.span_id)
    return event


def redact_secrets(_: Any, __: str, event: EventDict) -> EventDict:
    """Values of keys that name a credential never reach a log line."""
    for key in list(event):
        if _SECRET_KEY.search(key):
            event[key] = "***"
    return event


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the record (test captures,
    redirections), never to a stream that was closed since."""

    def emit(self, record: logging.LogRecord) -> None:
        """Emit ``record`` on the current stderr."""
        self.stream = sys.stderr
        super().emit(record)


def _chain() -> list[Any]:
    return [
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_ids,
        redact_secrets,
    ]


def configure(fmt: str = "auto", level: str = "INFO") -> None:
    """Install the floe log handler on stderr (idempotent; a later call updates the level)."""
    logger = logging.getLogger("floe")
    logger.setLevel(level)
    if any(h.get_name() == _HANDLER_NAME for h in logger.handlers):
        return
    as_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    handler = _StderrHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=_chain(),
        )
    )
    logger.addHandler(handler)
    structlog.configure(
        processors=[*_chain(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> Any:
    """A structlog logger writing through the ``floe`` handler."""
    return structlog.get_logger(name)
