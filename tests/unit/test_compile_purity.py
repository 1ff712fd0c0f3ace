"""Compile is pure: no dagster/dbt/pyarrow import, no network, no wall-clock in the output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEMO, PRODUCTS, run_floe

PROBE = """
import socket, sys
def _no_network(*a, **k):
    raise RuntimeError("compile touched the network")
socket.socket.connect = _no_network
socket.create_connection = _no_network
sys.argv = ["floe", "compile", sys.argv[1], "--out", sys.argv[2]]
from floe.cli.main import main
try:
    main()
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
RUNTIME = {"dagster", "dbt", "pyarrow", "pyiceberg", "duckdb", "structlog"}
heavy = sorted({m.split(".")[0] for m in sys.modules} & RUNTIME)
print("HEAVY=" + ",".join(heavy))
UNUSED = {"floe.plugins.records", "floe.plugins.access", "floe.compile.semantic",
          "importlib.metadata", "logging", "rich._emoji_codes"}
print("UNUSED=" + ",".join(sorted(UNUSED & set(sys.modules))))
"""


@pytest.mark.requirement("FR-016")
@pytest.mark.parametrize("product", PRODUCTS)
def test_compile_imports_no_runtime_library_and_uses_no_network(
    product: str, tmp_path: Path
) -> None:
    """A full compile loads none of dagster, dbt, pyarrow, pyiceberg, duckdb and opens no socket,
    nor the floe modules a compile of a product without a semantic layer does not use (the
    values plugins exchange with floe, catalog access rules, the semantic layer's input), nor
    pydantic's plugin scan (importlib.metadata), logging (no warning was logged) or rich's
    emoji table (floe prints ``:name:`` as written): what keeps `floe compile` short."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(DEMO / product), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY=\n" in proc.stdout
    assert "UNUSED=\n" in proc.stdout
    assert (tmp_path / "compiled_artifacts.json").is_file()


@pytest.mark.requirement("TQR-020")
@pytest.mark.requirement("FR-016")
@pytest.mark.parametrize("product", PRODUCTS)
def test_two_compiles_from_different_cwds_are_byte_identical(product: str, tmp_path: Path) -> None:
    """Compiling from the repo root and from /tmp gives identical bytes for both output files."""
    src = DEMO / product
    first = run_floe("compile", src, "--out", tmp_path / "a", cwd=DEMO.parent)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    second = run_floe("compile", src, "--out", tmp_path / "a2", cwd=elsewhere)
    assert first.code == 0, first.err
    assert second.code == 0, second.err
    for name in ("compiled_artifacts.json", "profiles.yml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "a2" / name).read_bytes()
    text = (tmp_path / "a" / "compiled_artifacts.json").read_text()
    assert str(DEMO.parent) not in text
    assert "/tmp" not in text
    assert "compiled_at" not in text
    data = json.loads(text)
    assert data["metadata"]["source_hash"].startswith("sha256:")
    assert text == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.requirement("FR-016")
def test_source_hash_covers_dbt_files(platform_copy: Path, tmp_path: Path) -> None:
    """Editing one model's SQL changes source_hash; compiling again unchanged does not."""
    product = platform_copy / "customer-360"

    def hash_of() -> str:
        res = run_floe("compile", product, "--out", tmp_path)
        assert res.code == 0, res.err
        return str(
            json.loads((tmp_path / "compiled_artifacts.json").read_text())["metadata"][
                "source_hash"
            ]
        )

    before = hash_of()
    assert hash_of() == before
    model = next((product / "models").rglob("mart_*.sql"))
    model.write_text(model.read_text() + "\n-- changed\n")
    assert hash_of() != before


GATE_PROBE = """
import json, socket, sys
from pathlib import Path
def _no_network(*a, **k):
    raise RuntimeError("compile touched the network")
socket.socket.connect = _no_network
socket.create_connection = _no_network
from floe.compile.api import compile_product
live = json.loads(sys.argv[2])
ctx = compile_product(Path(sys.argv[1]), write=False, live_schema=live)
gate = ctx.enforcement.schema_gate
print("GATE=" + json.dumps([gate.tables_compared, [c.change for c in gate.changes]]))
RUNTIME = {"dagster", "dbt", "pyarrow", "pyiceberg", "duckdb", "structlog"}
print("HEAVY=" + ",".join(sorted({m.split(".")[0] for m in sys.modules} & RUNTIME)))
"""


@pytest.mark.requirement("FR-094")
def test_breaking_change_gate_keeps_compile_pure() -> None:
    """With a live schema given as a plain dict, compile derives and compares schemas (sqlglot)
    without importing pyiceberg/duckdb/dagster/dbt and without opening a socket."""
    live = {"raw_customers": [["customer_id", "string"], ["first_name", "string"]]}
    proc = subprocess.run(
        [sys.executable, "-c", GATE_PROBE, str(DEMO / "customer-360"), json.dumps(live)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        'GATE=[["raw_customers"], ["added", "added", "added", "added", "added", "added", "added"]]'
        in proc.stdout
    )
    assert "HEAVY=\n" in proc.stdout


CACHE_PROBE = """
import json, sys
from pathlib import Path
from floe.compile.api import compile_product
live = json.loads(sys.argv[3])
ctx = compile_product(Path(sys.argv[1]), out_dir=Path(sys.argv[2]), live_schema=live)
print("CHANGES=" + json.dumps([c.change for c in ctx.enforcement.schema_gate.changes]))
print("SQLGLOT=" + str("sqlglot" in sys.modules))
"""


@pytest.mark.requirement("FR-094")
def test_unchanged_models_are_not_parsed_again(tmp_path: Path) -> None:
    """The first compile with a live schema parses the SQL (sqlglot) and saves the derived
    schemas beside the artifacts; an unchanged second compile gives the same verdict without
    importing sqlglot; the cache is not part of the artifacts."""
    live = json.dumps({"int_customer_support_summary": [["customer_id", "string"]]})

    def compile_once() -> str:
        proc = subprocess.run(
            [sys.executable, "-c", CACHE_PROBE, str(DEMO / "customer-360"), str(tmp_path), live],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    first = compile_once()
    assert "SQLGLOT=True" in first
    cache = json.loads((tmp_path / ".schema_cache.json").read_text())
    assert len(cache) == 6
    second = compile_once()
    assert "SQLGLOT=False" in second
    assert first.split("SQLGLOT")[0] == second.split("SQLGLOT")[0]
    assert 'CHANGES=["added", "added"' in second
    assert not (tmp_path / "compiled_artifacts.json").read_text().count("schema_cache")
