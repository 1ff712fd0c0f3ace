"""Every class of input error exits 2 with FILE:LINE:COL: error[CODE] and no traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import TINY_SPEC, run_floe

DIAG = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): error\[(?P<code>[EP]\d+)\]: ")


def _diags(err: str) -> list[dict[str, str]]:
    return [m.groupdict() for m in (DIAG.match(line) for line in err.splitlines()) if m]


def _assert_clean(err: str) -> None:
    assert "Traceback" not in err
    assert "/site-packages/" not in err


@pytest.mark.requirement("TQR-020")
@pytest.mark.requirement("FR-015")
def test_every_schema_problem_reported_at_once_with_locations(tiny: Path) -> None:
    """Three independent mistakes in floe.yaml → three located diagnostics in one run, exit 2."""
    spec = TINY_SPEC.replace("  version: 0.1.0", "  version: one")
    spec = spec.replace("    tier: silver", "    tier: platinum")
    spec = spec.replace("    dependsOn: [int_orders]", "    depends_on: [int_orders]")
    (tiny / "floe.yaml").write_text(spec)
    res = run_floe("compile", tiny)
    assert res.code == 2
    _assert_clean(res.err)
    found = {(d["line"], d["code"]) for d in _diags(res.err)}
    assert found == {("5", "E110"), ("13", "E110"), ("17", "E110")}
    assert "metadata.version: String should match pattern" in res.err
    assert "transforms[1].tier: Input should be 'bronze', 'silver' or 'gold' (got 'platinum')" in (
        res.err
    )
    assert "transforms[2].depends_on: unknown field" in res.err
    assert "hint: did you mean 'dependsOn'?" in res.err
    assert "found 3 errors" in res.err


@pytest.mark.requirement("FR-015")
def test_missing_required_field_points_at_parent(tiny: Path) -> None:
    """A missing metadata.name is reported at the metadata mapping (line 4)."""
    (tiny / "floe.yaml").write_text(TINY_SPEC.replace("  name: tiny\n", ""))
    res = run_floe("compile", tiny)
    assert res.code == 2
    assert _diags(res.err) == [{"file": "floe.yaml", "line": "4", "col": "3", "code": "E110"}] or (
        "floe.yaml:4:3: error[E110]: metadata.name: required field is missing" in res.err
    )


@pytest.mark.requirement("FR-015")
def test_missing_file(tmp_path: Path) -> None:
    """A product directory without floe.yaml: E100, exit 2."""
    res = run_floe("compile", tmp_path)
    assert res.code == 2
    assert "floe.yaml: error[E100]: floe.yaml not found" in res.err
    _assert_clean(res.err)


@pytest.mark.requirement("FR-015")
def test_unreadable_file(tiny: Path) -> None:
    """A floe.yaml that is not UTF-8 text: E100 naming the problem, exit 2."""
    (tiny / "floe.yaml").write_bytes(b"apiVersion: \xff\xfe\n")
    res = run_floe("compile", tiny)
    assert res.code == 2
    assert "error[E100]: the floe.yaml is not UTF-8 text" in res.err
    _assert_clean(res.err)


@pytest.mark.requirement("FR-015")
def test_yaml_syntax_error(tiny: Path) -> None:
    """Unclosed flow sequence: E101 at the line/column libyaml reports."""
    (tiny / "floe.yaml").write_text(TINY_SPEC.replace("[stg_orders]", "[stg_orders"))
    res = run_floe("compile", tiny)
    assert res.code == 2
    diags = _diags(res.err)
    assert [d["code"] for d in diags] == ["E101"]
    assert int(diags[0]["line"]) in (14, 15)
    assert "YAML syntax error" in res.err
    _assert_clean(res.err)


@pytest.mark.requirement("FR-015")
def test_duplicate_keys(tiny: Path) -> None:
    """A key given twice is an error at the second occurrence, naming the first line."""
    (tiny / "floe.yaml").write_text(
        TINY_SPEC.replace(
            "  owner: data@example.com\n", "  owner: a@example.com\n  owner: b@example.com\n"
        )
    )
    res = run_floe("compile", tiny)
    assert res.code == 2
    assert (
        "floe.yaml:7:3: error[E102]: metadata.owner: duplicate key 'owner' "
        "(first defined at line 6)" in res.err
    )


@pytest.mark.requirement("FR-015")
def test_alias_bomb_is_refused_quickly(tiny: Path) -> None:
    """A billion-laughs document is refused with E103 instead of exhausting memory."""
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join('*' + prev for _ in range(9))}]")
    (tiny / "floe.yaml").write_text("\n".join(lines) + "\n")
    res = run_floe("compile", tiny)
    assert res.code == 2
    assert [d["code"] for d in _diags(res.err)] == ["E103"]
    assert "billion laughs" in res.err


@pytest.mark.requirement("FR-015")
def test_non_mapping_root(tiny: Path) -> None:
    """A YAML list at the root: E104 at 1:1."""
    (tiny / "floe.yaml").write_text("- apiVersion: floe.dev/v1\n")
    res = run_floe("compile", tiny)
    assert res.code == 2
    assert "floe.yaml:1:1: error[E104]: the floe.yaml must be a mapping" in res.err


@pytest.mark.requirement("FR-015")
def test_wrong_api_version_and_kind(tiny: Path) -> None:
    """Wrong apiVersion and a manifest's kind in floe.yaml: E105 + E106 with fixes."""
    spec = TINY_SPEC.replace("floe.dev/v1", "floe.dev/v2").replace(
        "kind: FloeSpec", "kind: Manifest"
    )
    (tiny / "floe.yaml").write_text(spec)
    res = run_floe("compile", tiny)
    assert res.code == 2
    assert (
        "floe.yaml:1:13: error[E105]: apiVersion: unsupported apiVersion "
        "(expected 'floe.dev/v1', got 'floe.dev/v2')" in res.err
    )
    assert (
        "floe.yaml:2:7: error[E106]: kind: wrong kind (expected 'FloeSpec', got 'Manifest')"
        in res.err
    )
    assert "this looks like a floe.yaml" not in res.err
    assert "hint: this looks like a manifest.yaml; set 'kind: FloeSpec'" in res.err


@pytest.mark.requirement("FR-054")
def test_unknown_plugin_type_lists_installed(tiny: Path) -> None:
    """catalog type 'nessie' is not installed: E206 at the manifest line, listing 'sql'."""
    manifest = (tiny / "manifest.yaml").read_text().replace("type: sql", "type: nessie")
    (tiny / "manifest.yaml").write_text(manifest)
    res = run_floe("compile", tiny)
    assert res.code == 2
    assert (
        "manifest.yaml:13:11: error[E206]: plugins.catalog.type: unknown catalog plugin type "
        "'nessie' (installed: polaris, rest, sql)" in res.err
    )


@pytest.mark.requirement("FR-015")
def test_manifest_path_that_does_not_exist(tiny: Path) -> None:
    """platform.manifest pointing nowhere: E120 at that line of floe.yaml."""
    (tiny / "floe.yaml").write_text(
        TINY_SPEC.replace("manifest: manifest.yaml", "manifest: ../nowhere/manifest.yaml")
    )
    res = run_floe("compile", tiny)
    assert res.code == 2
    assert (
        "floe.yaml:8:13: error[E120]: platform.manifest: the platform manifest "
        "'../nowhere/manifest.yaml' does not exist" in res.err
    )


@pytest.mark.requirement("FR-066")
def test_debug_shows_traceback_only_when_asked(tiny: Path) -> None:
    """--debug re-raises the error so its traceback is visible; without it none is."""
    (tiny / "floe.yaml").write_text("- 1\n")
    quiet = run_floe("compile", tiny)
    loud = run_floe("--debug", "compile", tiny)
    assert quiet.code == 2
    assert "Traceback" not in quiet.err
    assert loud.code != 0
    assert "Traceback" in loud.err
    assert "InputError" in loud.err
