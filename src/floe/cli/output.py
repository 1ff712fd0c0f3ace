"""Printing: diagnostics to stderr, results as rich tables to stdout."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from floe.errors import Diagnostic, public_text

if TYPE_CHECKING:
    from rich.console import Console


def console(stderr: bool = False) -> Console:
    """A rich console (imported lazily: most commands print little). No emoji codes: a
    ``:name:`` in a path, table or message is printed as written (and rich's emoji table is
    never loaded)."""
    import os

    from rich.console import Console

    out = Console(stderr=stderr, highlight=False, soft_wrap=True, emoji=False)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out.width = 160  # logs and pipes: wide tables rather than truncated cells
    return out


def print_diagnostics(diags: list[Diagnostic]) -> None:
    """One block per diagnostic on stderr, in the FILE:LINE:COL format editors understand."""
    for d in diags:
        sys.stderr.write(public_text(d.render()) + "\n")
    errors = sum(1 for d in diags if d.severity == "error")
    warnings = len(diags) - errors
    if errors:
        noun = "error" if errors == 1 else "errors"
        extra = f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
        sys.stderr.write(f"found {errors} {noun}{extra}\n")


def human_bytes(size: int) -> str:
    """``1536`` → ``1.5 KiB``; bytes below 1 KiB as they are (``512 B``)."""
    value, unit = float(size), "B"
    for larger in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
