"""One path per run: `floe run` goes through the same compile and live-schema reading as
`floe compile`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TINY_MANIFEST, run_floe, write_tiny


@pytest.mark.requirement("FLOE-002")
def test_run_warns_like_compile_when_the_gate_cannot_read_the_catalog(tmp_path: Path) -> None:
    """`floe run` reads the live schema the way `floe compile` does and prints the same W150
    line when the gate cannot run (it used to drop it and skip the gate silently)."""
    manifest = TINY_MANIFEST.replace(
        "  catalog:\n    type: sql\n",
        "  catalog:\n    type: rest\n    config:\n"
        "      uri: http://127.0.0.1:9/api/catalog\n      token: s3cr3t-plain\n",
    )
    product = write_tiny(tmp_path / "tiny", manifest=manifest)
    env = dict.fromkeys(("FLOE_HOME", "FLOE_MANIFEST"), "")
    compiled = run_floe("compile", product, env=env)
    ran = run_floe("run", product, env=env)
    assert ran.code != 0  # the catalog is unusable for the run itself
    gate = [line for line in compiled.err.splitlines() if "W150" in line]
    assert len(gate) == 1
    assert [line for line in ran.err.splitlines() if "W150" in line] == gate
    assert "s3cr3t-plain" not in ran.err + ran.out
