"""The 'rego' promotion gate: the manifest's Rego policies evaluated by regopy (rego-cpp) over
the input document built from the real compiled artifacts of the tiny product."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from floe.compile.api import compile_product
from floe.errors import FloeError, Location
from floe.promote import gates
from floe.promote.bundle import ARTIFACTS_ENTRY
from floe.promote.rego import Policy
from tests.conftest import write_tiny
from tests.e2e.promotion_platform import GOLD_NEEDS_TESTS

WHO_WHAT = """\
package audit.shape

deny contains sprintf("%s %s %s %s->%s by %s, %d models, enforcement passed=%v", [
  input.product, input.version, input.digest, input.from, input.to, input.who,
  count(input.models), input.enforcement.passed])
"""


def candidate(root: Path, policies: list[Path], tmp: Path) -> gates.Candidate:
    """The tiny product in ``root`` compiled for dev, about to go to staging."""
    out = tmp / "compiled"
    compile_product(root, env="dev", out_dir=out)
    files = {ARTIFACTS_ENTRY: (out / "compiled_artifacts.json").read_bytes()}
    named = [Policy(p, Location(str(root / "manifest.yaml"), 20 + i, 7))
             for i, p in enumerate(policies)]  # fmt: skip
    return gates.Candidate("tiny", "sha256:" + "ab" * 32, "dev", "staging", root, files,
                           root / "manifest.yaml", tmp / "runs", (), tmp / "adv.json",
                           lambda: "", "alice@example.com", named)  # fmt: skip


def untested_gold(root: Path) -> None:
    """Remove mart_revenue's only test (its revenue column's not_null)."""
    schema = root / "models" / "schema.yml"
    text = schema.read_text()
    tested = "      - name: revenue\n        description: Total.\n        data_tests: [not_null]\n"
    assert tested in text
    schema.write_text(text.replace(tested, tested.replace("        data_tests: [not_null]\n", "")))


@pytest.mark.requirement("FR-071")
@pytest.mark.requirement("FR-072")
def test_a_policy_denies_a_gold_model_without_tests_and_allows_it_with_one(tmp_path: Path):
    """The same policy allows the tiny product (its gold model has a test) and blocks it once
    that test is gone, naming the policy's message; a second file sees the documented input;
    the engine ran in its own process."""
    root = write_tiny(tmp_path / "tiny")
    (root / "gold.rego").write_text(GOLD_NEEDS_TESTS)
    (root / "shape.rego").write_text(WHO_WHAT)
    allowed = gates.rego(candidate(root, [root / "gold.rego"], tmp_path / "a"))
    assert (allowed.outcome, allowed.evidence["deny"]) == ("passed", [])

    untested_gold(root)
    c = candidate(root, [root / "gold.rego", root / "shape.rego"], tmp_path / "b")
    denied = gates.rego(c)
    assert denied.outcome == "failed"
    assert denied.evidence["deny"] == [
        "gold.rego: gold model mart_revenue has no tests",
        f"shape.rego: tiny 0.1.0 {c.digest} dev->staging by alice@example.com, 3 models, "
        "enforcement passed=true",
    ]
    assert denied.reason.startswith("gold.rego: gold model mart_revenue has no tests; ")
    assert "regopy" not in sys.modules  # its native library aborts a process with DuckDB's


@pytest.mark.requirement("FR-072")
def test_a_syntax_error_or_a_missing_policy_blocks_with_a_located_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A Rego syntax error errors the gate at the policy's file:line:col, a missing file at the
    manifest line naming it, a file without a 'deny' rule at its package: all block."""
    root = write_tiny(tmp_path / "tiny")
    (root / "bad.rego").write_text(
        "package floe.promotion\n\ndeny contains msg if {\n  msg := \n}\n"
    )
    (root / "nodeny.rego").write_text("package floe.other\n\nallow := true\n")
    monkeypatch.setattr(gates, "GATES", (("rego", gates.rego),))
    cases = {
        "bad.rego": f"E644: {root / 'bad.rego'}:4:7: Rego policy: Invalid assignment operator",
        "gone.rego": f"E644: {root / 'manifest.yaml'}:20:7: Rego policy {root / 'gone.rego'} "
        "cannot be read",
        "nodeny.rego": f"E644: {root / 'nodeny.rego'}:1:9: Rego policy: package floe.other "
        "defines no rule 'deny'",
    }
    for name, start in cases.items():
        [result] = gates.run_gates(candidate(root, [root / name], tmp_path / name))
        assert (result.gate, result.outcome) == ("rego", "error")
        assert result.reason.startswith(start), result.reason
    bad = candidate(root, [root / "bad.rego"], tmp_path / "loc")
    with pytest.raises(FloeError) as syntax:
        gates.rego(bad)
    assert str(syntax.value).startswith(f"{root / 'bad.rego'}:4:7: error[E644]")
    gone = candidate(root, [root / "gone.rego"], tmp_path / "loc2")
    with pytest.raises(FloeError) as missing:
        gates.rego(gone)
    assert str(missing.value).startswith(f"{root / 'manifest.yaml'}:20:7: error[E644]: "
                                         "artifacts.promotion.rego: ")  # fmt: skip
    assert "gone.rego cannot be read (No such file or directory)" in str(missing.value)


@pytest.mark.requirement("FR-071")
def test_compile_reports_a_missing_rego_policy_at_its_manifest_line(tmp_path: Path):
    """`floe compile` (VALIDATE) already names a policy file of artifacts.promotion.rego that
    does not exist, at the manifest line that names it; the existing one is accepted."""
    from tests.conftest import TINY_MANIFEST

    manifest = TINY_MANIFEST + (
        "artifacts:\n  registry:\n    url: localhost:5000/floe\n"
        "  promotion:\n    rego:\n      - gold.rego\n      - policies/gone.rego\n"
    )
    root = write_tiny(tmp_path / "tiny", manifest=manifest)
    (root / "gold.rego").write_text(GOLD_NEEDS_TESTS)
    line = manifest.splitlines().index("      - policies/gone.rego") + 1
    with pytest.raises(FloeError) as missing:
        compile_product(root, env="dev", write=False)
    assert [(d.code, d.location, d.field_path) for d in missing.value.diagnostics] == [
        ("E644", Location(str(root / "manifest.yaml"), line, 9), "artifacts.promotion.rego")
    ]
    assert "policies/gone.rego does not exist" in missing.value.diagnostics[0].message
