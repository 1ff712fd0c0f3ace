"""Run dbt for floe: through the platform's dbt plugin (``plugins.dbt``: ``core`` in process
by default, ``core-subprocess``), with the callbacks of the current context.

``invoke_dbt`` is the in-process call the parse and check steps use (they need dbt's result
objects); a run's invocations go through :func:`run_dbt` and the chosen plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from floe.plugins.abcs import DbtPlugin
from floe.plugins.builtin.dbt_core import CoreDbtPlugin, invoke_in_process
from floe.plugins.records import DbtInvocation

#: dbt event callbacks (each gets every dbt event) for invocations in the current context.
DBT_CALLBACKS: ContextVar[tuple[Callable[[Any], None], ...]] = ContextVar(
    "floe_dbt_callbacks", default=()
)


@dataclass(frozen=True)
class DbtProjectRef:
    """Where dbt finds the project and its compiled profile."""

    project_dir: Path
    profiles_dir: Path
    target: str


def _invocation(
    ref: DbtProjectRef, args: list[str], target_path: Path, env: dict[str, str] | None
) -> DbtInvocation:
    return DbtInvocation(
        tuple(args),
        ref.project_dir,
        ref.profiles_dir,
        ref.target,
        target_path,
        dict(env or {}),
        DBT_CALLBACKS.get(),
    )


def run_dbt(
    ref: DbtProjectRef,
    args: list[str],
    target_path: Path,
    env: dict[str, str] | None = None,
    plugin: DbtPlugin[Any] | None = None,
) -> None:
    """``dbt <args>`` through ``plugin`` (default ``core``) with run artefacts in
    ``target_path``; raises when dbt itself broke (a failing model or test is not an
    exception: it is in run_results.json)."""
    outcome = (plugin or CoreDbtPlugin()).invoke(_invocation(ref, args, target_path, env))
    if outcome.error is not None:
        raise RuntimeError(f"dbt {args[0]} failed: {outcome.error}")


def invoke_dbt(
    ref: DbtProjectRef, args: list[str], target_path: Path, env: dict[str, str] | None = None
) -> Any:
    """``dbt <args>`` in process, returning dbt's ``dbtRunnerResult`` (``success``,
    ``exception``, ``result``) instead of raising."""
    return invoke_in_process(_invocation(ref, args, target_path, env))
