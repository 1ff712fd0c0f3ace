"""dbt is the specification: every corpus project gives the same tables under ``floe run`` as
under a plain ``dbt build`` — in a first round and again after its inputs changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from floe.app.run import run
from floe.runtime.platform import catalog_for_manifest
from tests.e2e import dbt_corpus as corpus


@pytest.mark.requirement("FR-020")
@pytest.mark.parametrize("name", corpus.projects())
def test_floe_run_equals_dbt_build(name: str, tmp_path: Path) -> None:
    """For every seed, model and snapshot: same row count and same hash of the sorted rows in
    the reference DuckDB (plain ``dbt build``) and in the published Iceberg table, in round 1
    and again after ``round2/`` changed seeds or SQL (incrementals and snapshots build on what
    the first round published)."""
    ref_root, floe_root = tmp_path / "ref", tmp_path / "platform"
    ref_root.mkdir()
    floe_root.mkdir()
    (floe_root / "manifest.yaml").write_text(corpus.MANIFEST)
    ref_project = corpus.copy_project(name, ref_root)
    floe_project = corpus.copy_project(name, floe_root)
    database = ref_root / "reference.duckdb"
    corpus.load_externals(name, database)
    catalog = catalog_for_manifest(floe_root / "manifest.yaml")
    corpus.publish_externals(name, catalog)
    namespace = name.replace("-", "_")
    namespace = f"corpus_{namespace}"
    vars_ = _floe_vars(floe_project)

    rounds = ["round1"] + (["round2"] if (corpus.CORPUS / name / "round2").is_dir() else [])
    for round_name in rounds:
        if round_name == "round2":
            corpus.overlay_round2(name, ref_project)
            corpus.overlay_round2(name, floe_project)
        manifest = corpus.reference_build(ref_project, database, vars_)
        summary = run(floe_project)
        assert summary.success, f"{round_name}: {summary.failure}"
        expected = corpus.reference_fingerprints(manifest, database)
        got = corpus.floe_fingerprints(manifest, catalog_for_manifest(floe_root / "manifest.yaml"),
                                       namespace)  # fmt: skip
        assert got == expected, f"{round_name}: tables differ from dbt build"
        published = {a.name for a in summary.assets}
        assert published == set(expected), f"{round_name}: published assets"


def _floe_vars(project: Path) -> dict[str, object]:
    """The dbt vars floe.yaml gives the dev environment (the reference gets the same)."""
    import yaml

    spec = yaml.safe_load((project / "floe.yaml").read_text())
    merged = dict(spec.get("vars") or {})
    merged.update(((spec.get("environments") or {}).get("dev") or {}).get("vars") or {})
    return merged
