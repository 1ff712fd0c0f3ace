"""The platform's persistent Dagster instance.

Opening: ``dagster.DagsterInstance.from_config(directory)`` — the public constructor for an
instance whose ``dagster.yaml`` and storages live in a directory (``$DAGSTER_HOME``); it
replaces ``DagsterInstance.from_ref(dagster._core.instance.ref.InstanceRef.from_dir(...))``,
which it performs itself (same storages, same configuration).

Wraps: ``DagsterInstance.run_domain.get_keys_to_reexecute(run_id, execution_plan_snapshot)``
— not part of Dagster's public API (``run_domain`` is an internal object, not marked
``@public``). It is the exact rule behind the UI's "re-execute from asset failure": assets
planned but not materialized, plus those with a failed blocking check. ``floe run
--from-failure`` executes in-process with an asset selection, for which Dagster offers only
step-level ``ReexecutionOptions`` (they need a reconstructable job, not in-memory
definitions).

Also wraps ``DagsterInstance.report_run_failed(run, message)`` (``mark_run_failed``): a run
whose in-process ``floe run`` was killed is marked FAILURE by the next run (orchestrate/
liveness.py), as Dagster's run monitoring does for a dead run worker; it is not ``@public``.

Checked against dagster 1.13.27.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dagster import AssetKey, DagsterInstance


def open_instance(directory: Path) -> DagsterInstance:
    """The Dagster instance whose ``dagster.yaml`` and storages are in ``directory``; opened
    under a lock, as the first opening creates the SQLite storages (two first runs at once
    would both create them)."""
    import dagster as dg

    from floe.runtime.locks import exclusive

    with exclusive(directory / "open.lock"):
        return dg.DagsterInstance.from_config(str(directory))


def keys_to_reexecute(instance: DagsterInstance, run: Any) -> list[AssetKey]:
    """The asset keys a failed ``run`` did not materialize (Dagster's FROM_ASSET_FAILURE),
    sorted by name."""
    plan = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    keys, _checks = instance.run_domain.get_keys_to_reexecute(run.run_id, plan)
    return sorted(keys, key=lambda k: k.to_user_string())


def mark_run_failed(instance: DagsterInstance, run: Any, message: str) -> None:
    """Record ``run`` as FAILURE with ``message`` (``DagsterInstance.report_run_failed``: how
    Dagster's own run monitoring ends a run whose worker died; not marked ``@public``)."""
    instance.report_run_failed(run, message=message)
