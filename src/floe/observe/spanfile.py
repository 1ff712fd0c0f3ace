"""The embedded telemetry backend: spans as JSON lines in the platform home."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

#: Record fields: trace_id and span_id as lower-case hex (32 and 16 digits), parent_span_id
#: (hex or null), name, service, start_ns, end_ns, status (UNSET|OK|ERROR), attributes.


def spans_file(home_root: Path) -> Path:
    """``<home>/telemetry/spans.jsonl``."""
    return home_root / "telemetry" / "spans.jsonl"


class SpanFile:
    """Appends span records to the spans file, one JSON line each (writers in one process
    share a handle; each batch is one flushed write, so readers see whole lines)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._handle: TextIO | None = None

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        """Append ``records``."""
        lines = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
        with self._lock:
            if self._handle is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = self.path.open("a", encoding="utf-8")
            self._handle.write(lines)
            self._handle.flush()

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None


def read_spans(path: Path) -> list[dict[str, Any]]:
    """Every span record in ``path`` (none when the file does not exist)."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out
