"""The dbt plugin (issue 16 point 1): `core` (dbtRunner in floe's process, the default) and
`core-subprocess` (a dbt process per invocation), chosen in the manifest, same tables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from floe.app.run import run_logged
from floe.runtime.dbt_exec import DBT_CALLBACKS
from floe.runtime.platform import catalog_for_manifest
from tests.conftest import TINY_MANIFEST, write_tiny


def _run(product: Path) -> tuple[Any, list[str], set[int], dict[str, list[tuple[Any, ...]]]]:
    """Run the product; its progress lines, the pids the run's node events came from (the
    dbt parse of the code location stays in process), and each published table's rows
    (sorted) read back through the catalog."""
    lines: list[str] = []
    pids: set[int] = set()

    def on_event(event: Any) -> None:
        if event.info.name == "LogModelResult":  # a model built (not compiled, parsed)
            pids.add(int(event.info.pid))

    token = DBT_CALLBACKS.set((on_event,))
    try:
        summary, _ = run_logged(product, progress=lines.append)
    finally:
        DBT_CALLBACKS.reset(token)
    catalog = catalog_for_manifest(product / "manifest.yaml")
    tables = {}
    for asset in summary.assets:
        assert asset.table is not None
        rows = catalog.load_table(asset.table).scan().to_arrow().to_pylist()
        tables[asset.table] = sorted(tuple(sorted(r.items())) for r in rows)
    return summary, lines, pids, tables


@pytest.mark.requirement("FR-052")
def test_core_and_core_subprocess_publish_identical_tables(tmp_path: Path) -> None:
    """The tiny product run with the default dbt plugin and with `dbt: {type:
    core-subprocess}` publishes the same tables with the same rows; the subprocess run's dbt
    events (progress lines, model spans) come from other processes than floe's, the default
    run's from floe's own."""
    core = write_tiny(tmp_path / "core" / "tiny")
    sub_manifest = TINY_MANIFEST.replace(
        "  storage:\n    type: local\n",
        "  storage:\n    type: local\n  dbt:\n    type: core-subprocess\n",
    )
    sub = write_tiny(tmp_path / "sub" / "tiny", manifest=sub_manifest)
    first, core_lines, core_pids, core_tables = _run(core)
    second, sub_lines, sub_pids, sub_tables = _run(sub)
    assert first.success, first.failure
    assert second.success, second.failure
    assert sorted(core_tables) == [
        "tiny.int_orders", "tiny.mart_revenue", "tiny.raw_orders", "tiny.stg_orders"
    ]  # fmt: skip
    assert sub_tables == core_tables
    assert core_tables["tiny.mart_revenue"] == [(("revenue", 60),)]
    assert second.tests_passed == first.tests_passed > 0
    assert core_pids == {os.getpid()}
    assert len(sub_pids) == 1  # one `dbt build` process
    assert os.getpid() not in sub_pids

    def model_lines(lines: list[str]) -> list[str]:
        built = [line for line in lines if " OK created " in line]
        return sorted(line.split(" [")[0].split(" ", 1)[1] for line in built)

    assert model_lines(sub_lines) == model_lines(core_lines) != []
