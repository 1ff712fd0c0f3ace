"""Run dbt in-process through its programmatic API (``dbtRunner``).

One dbt import per process instead of one per invocation: a run's parse, seed tests and
model build cost a few hundred milliseconds of overhead each instead of seconds. dbt's
in-process runner is not thread-safe, so invocations are serialised.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from floe.runtime.adapters.dbt_duckdb_env import release_environment

_LOCK = threading.RLock()

#: dbtRunner callbacks (each gets every dbt event) for invocations in the current context.
DBT_CALLBACKS: ContextVar[tuple[Callable[[Any], None], ...]] = ContextVar(
    "floe_dbt_callbacks", default=()
)


@dataclass(frozen=True)
class DbtProjectRef:
    """Where dbt finds the project and its compiled profile."""

    project_dir: Path
    profiles_dir: Path
    target: str


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def run_dbt(
    ref: DbtProjectRef, args: list[str], target_path: Path, env: dict[str, str] | None = None
) -> None:
    """``dbt <args>`` with run artefacts in ``target_path``; raises when dbt itself broke
    (a failing model or test is not an exception: it is in run_results.json)."""
    result = invoke_dbt(ref, args, target_path, env)
    if result.exception is not None:
        raise RuntimeError(f"dbt {args[0]} failed: {result.exception}")


def invoke_dbt(
    ref: DbtProjectRef, args: list[str], target_path: Path, env: dict[str, str] | None = None
) -> Any:
    """``dbt <args>`` as :func:`run_dbt`, returning dbt's ``dbtRunnerResult`` (``success``,
    ``exception``, ``result``) instead of raising."""
    from dbt.cli.main import dbtRunner

    target_path.mkdir(parents=True, exist_ok=True)
    argv = [
        *args,
        "--project-dir", str(ref.project_dir),
        "--profiles-dir", str(ref.profiles_dir),
        "--log-path", str(target_path),
    ]  # fmt: skip
    if args[0] != "deps":  # dbt deps takes no target
        argv += ["--target", ref.target, "--target-path", str(target_path)]
    base = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    with _LOCK, _environment({**base, **(env or {})}):
        try:
            result = dbtRunner(callbacks=list(DBT_CALLBACKS.get())).invoke(argv)
        finally:
            release_environment()
    return result
