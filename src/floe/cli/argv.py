"""The command line before typer sees it (light: the console script reads it before importing
typer)."""

from __future__ import annotations


def without_debug(argv: list[str]) -> tuple[list[str], bool]:
    """``argv`` without ``--debug`` wherever it was typed (before a ``--`` separator), and
    whether it was: the global option works after the command too (``floe run x --debug``)."""
    end = argv.index("--") if "--" in argv else len(argv)
    kept = [arg for arg in argv[:end] if arg != "--debug"] + argv[end:]
    return kept, len(kept) != len(argv)
