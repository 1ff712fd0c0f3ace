"""The committed demo seeds are exactly the generator's default (small) output."""

from __future__ import annotations

from pathlib import Path

import pytest

from floe.demo_data import generate
from tests.conftest import DEMO, PRODUCTS, run_floe


@pytest.mark.requirement("FR-083")
@pytest.mark.parametrize("product", PRODUCTS)
def test_committed_seeds_equal_small_scale_generation(product: str, tmp_path: Path) -> None:
    """generate(product, 'small', seed 42) reproduces demo/<product>/seeds byte for byte, and
    every table has between 100 and 1,000 rows."""
    written = generate(product, "small", tmp_path, 42)
    assert sorted(written) == sorted(p.name for p in (DEMO / product / "seeds").glob("*.csv"))
    for name, rows in written.items():
        assert 100 <= rows <= 1000, (name, rows)
        assert (tmp_path / name).read_bytes() == (DEMO / product / "seeds" / name).read_bytes()


@pytest.mark.requirement("FR-083")
def test_seeds_cli_honours_scale_variable(tmp_path: Path) -> None:
    """`floe seeds generate --out` uses FLOE_DEMO_SEED_SCALE=<rows> for the biggest table."""
    res = run_floe(
        "seeds", "generate", DEMO / "iot-telemetry", "--out", tmp_path,
        env={"FLOE_DEMO_SEED_SCALE": "2500"},
    )  # fmt: skip
    assert res.code == 0, res.err
    assert "│ raw_readings.csv    │ 2,500 │" in res.out
    lines = (tmp_path / "raw_readings.csv").read_text().count("\n")
    assert lines == 2501
    bad = run_floe("seeds", "generate", DEMO / "iot-telemetry", "--scale", "huge")
    assert bad.code == 2
    assert "invalid demo seed scale 'huge'" in bad.err
