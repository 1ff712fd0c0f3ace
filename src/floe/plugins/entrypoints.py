"""A fast reader of installed entry points for the ``floe.*`` groups.

``importlib.metadata`` costs ~40 ms to import and parses every distribution's metadata;
compile must stay well under 0.25 s, so we read ``*.dist-info/entry_points.txt`` (and
``*.egg-info``) on ``sys.path`` directly. The file format is the standard INI-like one
(https://packaging.python.org/en/latest/specifications/entry-points/).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, NamedTuple


class EntryPoint(NamedTuple):
    """``name = module:attr`` in ``[group]``."""

    group: str
    name: str
    value: str

    def load(self) -> Any:
        """Import the module and return the attribute."""
        module, _, attr = self.value.partition(":")
        obj: Any = importlib.import_module(module.strip())
        for part in attr.strip().split(".") if attr.strip() else []:
            obj = getattr(obj, part)
        return obj


def _parse(text: str, prefix: str) -> list[EntryPoint]:
    out: list[EntryPoint] = []
    group = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
            continue
        if group.startswith(prefix) and "=" in line:
            name, _, value = line.partition("=")
            value = value.split("[", 1)[0].strip()  # drop extras
            out.append(EntryPoint(group, name.strip(), value))
    return out


def entry_points(prefix: str = "floe.") -> list[EntryPoint]:
    """Entry points of every group starting with ``prefix``, first on sys.path wins per name."""
    found: list[EntryPoint] = []
    seen: set[tuple[str, str]] = set()
    for folder in sys.path or ["."]:
        try:
            names = sorted(os.listdir(folder or "."))
        except OSError:
            continue
        for entry in names:
            if not entry.endswith((".dist-info", ".egg-info")):
                continue
            path = os.path.join(folder or ".", entry, "entry_points.txt")
            try:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
            except OSError:
                continue
            if prefix not in text:
                continue
            for ep in _parse(text, prefix):
                if (ep.group, ep.name) not in seen:
                    seen.add((ep.group, ep.name))
                    found.append(ep)
    return found
