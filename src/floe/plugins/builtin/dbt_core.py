"""How dbt runs: ``core`` (dbt's programmatic ``dbtRunner`` in floe's process) and
``core-subprocess`` (a ``dbt`` process per invocation).

``core`` imports dbt once per process: a run's invocations cost a few hundred milliseconds
of overhead each instead of seconds, but dbt's in-process runner is not thread-safe, so
invocations are serialised behind one process-wide lock. ``core-subprocess`` isolates dbt
from floe's process (its memory, its globals, a crash) and takes no lock, so products run in
parallel threads; dbt's events reach the callbacks from its JSON log lines. Both run the same
dbt on the same project and profile: the same tables come out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from floe.plugins.abcs import DbtPlugin
from floe.plugins.adapters.dbt_duckdb_env import release_environment
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.records import DbtInvocation, DbtOutcome

#: dbt never phones home from floe's runs.
QUIET = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
_LOCK = threading.RLock()


class CoreDbtConfig(BaseModel):
    """``core`` takes no settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SubprocessDbtConfig(BaseModel):
    """Settings of ``core-subprocess``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    executable: str | None = Field(
        default=None,
        description="The dbt command; default: the dbt installed beside floe's Python.",
    )
    timeout_seconds: float = Field(
        default=3600, gt=0, description="An invocation running longer is stopped (an error)."
    )


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
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


def invoke_in_process(invocation: DbtInvocation) -> Any:
    """``dbtRunner(callbacks).invoke(argv)`` under the process-wide lock with the
    invocation's environment; returns dbt's ``dbtRunnerResult``."""
    from dbt.cli.main import dbtRunner

    invocation.target_path.mkdir(parents=True, exist_ok=True)
    with _LOCK, _environment({**QUIET, **invocation.env}):
        try:
            return dbtRunner(callbacks=list(invocation.callbacks)).invoke(invocation.argv())
        finally:
            release_environment()


class CoreDbtPlugin(DbtPlugin[CoreDbtConfig]):
    """dbt-core in floe's process (dbtRunner), one invocation at a time."""

    name: ClassVar[str] = "core"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "dbt-core in process (dbtRunner); invocations serialised"

    def invoke(self, invocation: DbtInvocation) -> DbtOutcome:
        """Run dbt through dbtRunner; an exception dbt reports is the outcome's error."""
        result = invoke_in_process(invocation)
        error = None if result.exception is None else str(result.exception)
        return DbtOutcome(bool(result.success), error, result.result)

    def health_check(self) -> HealthStatus:
        """dbt-core is installed in floe's environment (found without importing it: a health
        check answers in well under a second)."""
        return _dbt_version(lambda: None)


class SubprocessDbtPlugin(DbtPlugin[SubprocessDbtConfig]):
    """A dbt process per invocation: isolated from floe, no lock, events from its JSON log."""

    name: ClassVar[str] = "core-subprocess"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "dbt-core in a process per invocation (isolated, parallel)"

    def command(self) -> list[str]:
        """The dbt command line prefix."""
        if self.config.executable:
            return [self.config.executable]
        beside = Path(sys.executable).with_name("dbt")
        return [str(beside)] if beside.exists() else ["dbt"]

    def invoke(self, invocation: DbtInvocation) -> DbtOutcome:
        """``dbt --log-format json …``: every stdout line is an event for the callbacks; exit
        0/1 is a completed invocation (1: failures recorded in run_results.json), anything
        else dbt breaking (its last lines are the error)."""
        invocation.target_path.mkdir(parents=True, exist_ok=True)
        argv = [*self.command(), "--log-format", "json", "--no-use-colors"]
        if invocation.callbacks:
            argv += ["--log-level", "debug"]  # NodeStart and friends are debug events
        env = {**os.environ, **QUIET, **invocation.env}
        with subprocess.Popen(
            [*argv, *invocation.argv()],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        ) as proc:
            errors: list[str] = []
            reader = threading.Thread(target=_drain, args=(proc.stderr, errors), daemon=True)
            reader.start()
            messages = _feed(proc.stdout, invocation.callbacks)
            try:
                code = proc.wait(timeout=self.config.timeout_seconds)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
                errors.append(f"stopped after {self.config.timeout_seconds:g} s")
            reader.join(timeout=10)
        if code in (0, 1):
            return DbtOutcome(code == 0)
        tail = [*messages[-3:], *errors[-3:]]
        return DbtOutcome(False, f"dbt exited with {code}: {' | '.join(tail) or 'no output'}")

    def health_check(self) -> HealthStatus:
        """The dbt command is there: the environment's own ``dbt`` beside floe's Python (with
        dbt-core installed), or the configured executable answering ``--version``."""
        return _dbt_version(self._probe)

    def _probe(self) -> None:
        command = self.command()
        if not self.config.executable and Path(command[0]).is_absolute():
            if not os.access(command[0], os.X_OK):
                raise FileNotFoundError(f"{command[0]} is not executable")
            return
        subprocess.run([*command, "--version"], capture_output=True, timeout=60, check=True)


def _feed(stream: Any, callbacks: tuple[Any, ...]) -> list[str]:
    """Hand each JSON log line to the callbacks as an event object; the error/warn messages."""
    messages: list[str] = []
    for line in stream:
        try:
            event = json.loads(line, object_hook=lambda d: SimpleNamespace(**d))
        except ValueError:
            messages.append(line.strip())
            continue
        info = getattr(event, "info", None)
        if info is not None and getattr(info, "level", "") in ("error", "warn"):
            messages.append(str(getattr(info, "msg", "")))
        for callback in callbacks:
            callback(event)
    return messages


def _drain(stream: Any, into: list[str]) -> None:
    for line in stream:
        if line.strip():
            into.append(line.strip())


def _dbt_version(probe: Any) -> HealthStatus:
    from importlib.metadata import version
    from importlib.util import find_spec

    try:
        if find_spec("dbt.cli") is None:
            raise ModuleNotFoundError("no module named 'dbt.cli'")
        probe()
        found = version("dbt-core")
    except Exception as exc:  # an unusable dbt is the answer
        return HealthStatus(HealthState.UNHEALTHY, f"dbt unusable: {type(exc).__name__}: {exc}")
    return HealthStatus(HealthState.HEALTHY, f"dbt-core {found}")
