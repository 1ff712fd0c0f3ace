"""JSON Schema export (FR-017): draft 2020-12 schemas that accept good files, reject bad ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from tests.conftest import DEMO, ROOT, TINY_SPEC, run_floe


def _validator(name: str, folder: Path) -> Draft202012Validator:
    schema = json.loads((folder / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.requirement("FR-017")
def test_export_writes_three_draft_2020_12_schemas(tmp_path: Path) -> None:
    """`floe schema export --out DIR` writes the three schemas, each a valid 2020-12 schema."""
    res = run_floe("schema", "export", "--out", tmp_path)
    assert res.code == 0, res.err
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "compiled-artifacts.schema.json",
        "floe-spec.schema.json",
        "manifest.schema.json",
    ]
    for name in names:
        schema = json.loads((tmp_path / name).read_text())
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)


@pytest.mark.requirement("FR-017")
def test_committed_schemas_are_current(tmp_path: Path) -> None:
    """schemas/ in the repo equals a fresh export (the demo files' $schema lines point there)."""
    run_floe("schema", "export", "--out", tmp_path)
    for path in sorted(tmp_path.iterdir()):
        assert (ROOT / "schemas" / path.name).read_text() == path.read_text(), path.name


@pytest.mark.requirement("FR-017")
def test_schemas_accept_the_demo_files() -> None:
    """Every demo floe.yaml and the demo manifest validate against the exported schemas."""
    spec_v = _validator("floe-spec.schema.json", ROOT / "schemas")
    manifest_v = _validator("manifest.schema.json", ROOT / "schemas")
    products = sorted(DEMO.glob("*/floe.yaml"))
    assert [p.parent.name for p in products] == ["customer-360", "financial-risk", "iot-telemetry"]
    for path in products:
        text = path.read_text()
        assert text.startswith(
            "# yaml-language-server: $schema=../../schemas/floe-spec.schema.json"
        )
        assert list(spec_v.iter_errors(yaml.safe_load(text))) == []
    manifest = (DEMO / "manifest.yaml").read_text()
    assert manifest.startswith("# yaml-language-server: $schema=../schemas/manifest.schema.json")
    assert list(manifest_v.iter_errors(yaml.safe_load(manifest))) == []


@pytest.mark.requirement("FR-017")
def test_schema_rejects_a_broken_floe_yaml() -> None:
    """A wrong tier and an unknown key are both schema errors, at those paths."""
    spec_v = _validator("floe-spec.schema.json", ROOT / "schemas")
    data = yaml.safe_load(TINY_SPEC)
    data["transforms"][0]["tier"] = "platinum"
    data["transforms"][1]["depends_on"] = ["stg_orders"]
    errors = sorted(spec_v.iter_errors(data), key=lambda e: list(e.absolute_path))
    paths = [list(e.absolute_path) for e in errors]
    assert ["transforms", 0, "tier"] in paths
    assert any(e.validator == "additionalProperties" and "depends_on" in e.message for e in errors)


@pytest.mark.requirement("TQR-020")
@pytest.mark.requirement("FR-010")
def test_compiled_artifacts_validate_against_their_schema(tmp_path: Path) -> None:
    """A real compile's compiled_artifacts.json is valid per compiled-artifacts.schema.json."""
    res = run_floe("compile", DEMO / "customer-360", "--out", tmp_path)
    assert res.code == 0, res.err
    validator = _validator("compiled-artifacts.schema.json", ROOT / "schemas")
    data = json.loads((tmp_path / "compiled_artifacts.json").read_text())
    assert data["version"] == "0.6.0"
    assert list(validator.iter_errors(data)) == []
