"""`floe schema export`: JSON Schema (draft 2020-12) for the three file formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from floe.compile.canonical import canonical_json, write_atomic

DRAFT = "https://json-schema.org/draft/2020-12/schema"

SCHEMA_FILES = {
    "floe-spec.schema.json": ("floe.spec.floe_spec", "FloeSpec", "floe.yaml"),
    "manifest.schema.json": ("floe.spec.manifest", "Manifest", "manifest.yaml"),
    "compiled-artifacts.schema.json": (
        "floe.spec.artifacts",
        "CompiledArtifacts",
        "compiled_artifacts.json",
    ),
}


def build_schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema document."""
    import importlib

    out: dict[str, dict[str, Any]] = {}
    for filename, (module, cls_name, what) in SCHEMA_FILES.items():
        model = getattr(importlib.import_module(module), cls_name)
        schema = model.model_json_schema(by_alias=True, mode="validation")
        out[filename] = {
            "$schema": DRAFT,
            "$id": f"https://floe.dev/schemas/v1/{filename}",
            "title": f"floe {what}",
            **schema,
        }
    return out


def export(out_dir: Path) -> list[Path]:
    """Write every schema into ``out_dir``; return the paths written."""
    written = []
    for filename, schema in build_schemas().items():
        path = out_dir / filename
        write_atomic(path, canonical_json(schema))
        written.append(path)
    return written
