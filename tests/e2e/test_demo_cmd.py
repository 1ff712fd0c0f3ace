"""`floe demo` (what `make demo` runs): the products in parallel processes, one summary table."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import floe_cli, run_floe
from tests.e2e import expected
from tests.e2e.conftest import Platform, copy_demo


def _row(out: str, product: str) -> list[str]:
    line = next(x for x in out.splitlines() if x.startswith(f"│ {product} "))
    return [c.strip() for c in line.split("│")[1:-1]]


@pytest.mark.requirement("FR-086")
def test_demo_runs_chosen_products_in_parallel_and_prints_the_table(tmp_path: Path) -> None:
    """`floe demo <dir> --products iot-telemetry,financial-risk`: platform checks, a workspace
    with exactly those two code locations, both runs succeed in two worker processes, and the
    table shows per product its models, tests passed, gold rows and the gold snapshot id that
    is the table's current snapshot in the catalog."""
    root = copy_demo(tmp_path / "demo")
    res = run_floe("demo", root, "--products", "iot-telemetry,financial-risk")
    assert res.code == 0, res.out + res.err
    assert "running 2 products, 2 at a time" in res.out
    workspace = yaml.safe_load((root / "workspace.yaml").read_text())
    assert [e["python_file"]["location_name"] for e in workspace["load_from"]] == [
        "iot-telemetry", "financial-risk"]  # fmt: skip
    catalog = Platform(root, {}).catalog()
    for product, table in (
        ("iot-telemetry", "iot_telemetry.mart_equipment_health"),
        ("financial-risk", "financial_risk.mart_risk_dashboard"),
    ):
        cells = _row(res.out, product)
        files = root / product
        want = (expected.models(files), expected.dbt_tests(files), expected.gold_rows(files))
        assert cells[:4] == [product, *map(str, want)]
        assert cells[5] == str(catalog.load_table(table).current_snapshot().snapshot_id)
        assert cells[6] == "ok"
    assert ("customer_360",) not in catalog.list_namespaces()
    assert f"floe demo {root} --ui" in res.out


@pytest.mark.requirement("FR-086")
def test_demo_unknown_product_is_an_input_error(tmp_path: Path) -> None:
    """A name in --products that is no product below the directory: exit 2, E561, the choices."""
    root = copy_demo(tmp_path / "demo")
    res = floe_cli("demo", root, "--products", "customer-36")
    assert res.code == 2
    text = res.out + res.err
    assert "E561" in text
    assert "customer-360, financial-risk, iot-telemetry" in text
