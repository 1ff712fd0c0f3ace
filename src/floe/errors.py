"""One error hierarchy for floe.

Every user-facing problem is a :class:`Diagnostic`: a code, a message, where it is
(file:line:col and the field path) and how to fix it. A :class:`FloeError` carries one or more
diagnostics and the process exit status the CLI uses.

Exit statuses (documented in docs/cli.md):

* 0 — success
* 1 — internal error (a bug in floe; rerun with ``--debug`` and report it)
* 2 — invalid input (a file is missing, malformed or fails validation)
* 3 — policy violation in ``strict`` enforcement (``floe platform rbac diff``: access drift)
* 4 — a run failed (a model or one of its data tests failed; nothing of it was published)
* 5 — a promotion was blocked by a gate (or the promotion was rejected)
* 6 — a promotion waits for a manual approval (``floe approve <id>``)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import NamedTuple


class ExitCode(IntEnum):
    """Process exit statuses of the ``floe`` command."""

    OK = 0
    INTERNAL = 1
    INVALID_INPUT = 2
    POLICY_VIOLATION = 3
    RUN_FAILED = 4
    PROMOTION_BLOCKED = 5
    APPROVAL_PENDING = 6


class Location(NamedTuple):
    """Where something is: a file and, when known, a 1-based line and column."""

    file: str
    line: int = 0
    col: int = 0

    def render(self) -> str:
        """``file:line:col`` with the file relative to the working directory when possible."""
        shown = display_path(self.file)
        if self.line:
            return f"{shown}:{self.line}:{self.col or 1}"
        return shown

    def portable(self, root: Path) -> str:
        """The location relative to ``root`` (for artifacts: no absolute machine path)."""
        rel = Path(os.path.relpath(Path(self.file).resolve(), root.resolve())).as_posix()
        return f"{rel}:{self.line}:{self.col}" if self.line else rel


def display_path(path: str | Path) -> str:
    """A path as a user should see it: relative to the cwd when below it, else as given."""
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    try:
        return p.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return p.as_posix()


def public_text(text: str) -> str:
    """``text`` safe to show a user (FR-066): floe's install directory and the Python
    installation are replaced by ``<floe>`` and ``<python>``."""
    import sys

    roots = {
        str(Path(__file__).resolve().parent): "<floe>",
        sys.prefix: "<python>",
        sys.base_prefix: "<python>",
        sys.exec_prefix: "<python>",
    }
    for root in sorted((r for r in roots if len(r) > 4), key=len, reverse=True):
        text = text.replace(root, roots[root])
    return text


class Diagnostic(NamedTuple):
    """One problem found in the user's files."""

    code: str
    message: str
    location: Location | None = None
    field_path: str = ""
    hint: str = ""
    severity: str = "error"

    def render(self) -> str:
        """``FILE:LINE:COL: error[CODE]: field.path: message`` plus an indented hint line."""
        where = f"{self.location.render()}: " if self.location else ""
        path = f"{self.field_path}: " if self.field_path else ""
        text = f"{where}{self.severity}[{self.code}]: {path}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


@dataclass(eq=False)
class FloeError(Exception):
    """Root of every error floe reports to a user; carries one or more diagnostics."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.INVALID_INPUT

    def __post_init__(self) -> None:
        super().__init__(self.render())

    @classmethod
    def single(
        cls,
        code: str,
        message: str,
        location: Location | None = None,
        *,
        field_path: str = "",
        hint: str = "",
    ) -> FloeError:
        """An error with exactly one diagnostic."""
        return cls([Diagnostic(code, message, location, field_path, hint)])

    def render(self) -> str:
        """Every diagnostic, one block each."""
        return "\n".join(d.render() for d in self.diagnostics)

    def __str__(self) -> str:
        return self.render()


class InputError(FloeError):
    """A user file is missing, unreadable, malformed or invalid (exit 2)."""


class PolicyError(FloeError):
    """Strict enforcement found policy violations (exit 3).

    ``summary`` carries ENFORCE's EnforcementResultSummary so a report can still be written.
    """

    summary: object | None = None

    def __post_init__(self) -> None:
        self.exit_code = ExitCode.POLICY_VIOLATION
        super().__post_init__()


class PluginError(FloeError):
    """A plugin is unknown, incompatible or misconfigured (exit 2)."""
