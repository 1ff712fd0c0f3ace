"""Model spans opened and START events sent while dbt runs (dbtRunner callbacks).

dbt reports ``NodeStart`` from its worker threads as each model begins; its span starts then,
at the time dbt reports, and ends when the run results arrive with dbt's completion time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, Tracer

from floe.observe.dbt_timing import parse_ns
from floe.runtime.dbt_exec import DBT_CALLBACKS

LOG = logging.getLogger("floe.observe")

#: ``started(unique_id, name, start_ns, span)`` — called once per model as dbt starts it.
Started = Callable[[str, str, int, Span], None]


class LiveModels:
    """Opens one span per model on dbt's NodeStart, hands it over when results arrive."""

    def __init__(
        self, tracer: Tracer, attrs: dict[str, str], tiers: dict[str, str], started: Started
    ) -> None:
        self.tracer = tracer
        self.attrs = attrs
        self.tiers = tiers
        self.started = started
        self._spans: dict[str, Span] = {}
        self._parent: Span | None = None
        self._lock = threading.Lock()

    @contextmanager
    def listening(self, parent: Span) -> Iterator[None]:
        """Receive dbt's events of the invocations made inside (model spans under ``parent``)."""
        self._parent = parent
        token = DBT_CALLBACKS.set((*DBT_CALLBACKS.get(), self.on_event))
        try:
            yield
        finally:
            DBT_CALLBACKS.reset(token)
            self._parent = None

    def on_event(self, msg: Any) -> None:
        """dbtRunner callback: never raises into dbt."""
        try:
            self._on_event(msg)
        except Exception as exc:
            LOG.debug("dbt event not observed: %s", exc)

    def _on_event(self, msg: Any) -> None:
        if msg.info.name != "NodeStart" or self._parent is None:
            return
        info = msg.data.node_info
        if info.resource_type != "model":
            return
        uid = str(info.unique_id)
        start = parse_ns(info.node_started_at) or time.time_ns()
        attrs = {**self.attrs, "dbt.unique_id": uid, "dbt.resource_type": "model"}
        if uid in self.tiers:
            attrs["floe.tier"] = self.tiers[uid]
        span = self.tracer.start_span(
            f"dbt.model {info.node_name}",
            context=trace.set_span_in_context(self._parent),
            start_time=start,
            attributes=attrs,
        )
        with self._lock:
            self._spans[uid] = span
        self.started(uid, str(info.node_name), start, span)

    def take(self, unique_id: str) -> Span | None:
        """The open span of a model dbt started (None if it never started)."""
        with self._lock:
            return self._spans.pop(unique_id, None)

    def abandon(self) -> None:
        """End the spans of models dbt started but reported no result for."""
        with self._lock:
            spans, self._spans = list(self._spans.values()), {}
        for span in spans:
            span.set_status(trace.StatusCode.ERROR, "dbt reported no result")
            span.end()
