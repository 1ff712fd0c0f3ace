"""LOAD: read floe.yaml, manifest.yaml (with its --env overlay) and the dbt project."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from floe.compile.context import CompileContext
from floe.errors import Diagnostic, FloeError, InputError, Location
from floe.spec.base import validate_document
from floe.spec.dbt_project import read_project
from floe.spec.floe_spec import FloeSpec
from floe.spec.manifest import Manifest
from floe.spec.yamlload import PathKey, YamlDocument, load_yaml

E_MANIFEST_PATH = "E120"
E_ENV = "E121"
MANIFEST_ENV = "FLOE_MANIFEST"


class LoadStage:
    """Parse every input into typed models, reporting all problems of all files at once."""

    name = "load"

    def run(self, ctx: CompileContext) -> None:
        """Fill ``spec``, ``manifest`` and ``project`` of the context."""
        spec_path = _spec_path(ctx.options.product_dir)
        problems: list[Diagnostic] = []
        ctx.spec_doc = load_yaml(spec_path, what="floe.yaml")
        try:
            ctx.spec = validate_document(FloeSpec, ctx.spec_doc, "FloeSpec")
            problems += _ingestion(ctx.spec, ctx.spec_doc)
        except FloeError as exc:
            problems += exc.diagnostics
        try:
            manifest_path = _manifest_path(ctx, spec_path)
            ctx.manifest_doc = load_yaml(manifest_path, what="manifest.yaml")
            ctx.manifest = manifest_for_env(ctx.manifest_doc, ctx.options.env)
        except FloeError as exc:
            problems += exc.diagnostics
        if problems:
            raise InputError(problems)
        ctx.project = read_project(spec_path.parent)


def _ingestion(spec: FloeSpec, doc: YamlDocument) -> list[Diagnostic]:
    """floe.yaml's ``ingestion:`` section against its models (typed only when present)."""
    if not spec.ingestion:
        return []
    from pydantic import ValidationError

    from floe.spec.base import diagnostics_from
    from floe.spec.ingestion import IngestionSection

    try:
        spec.ingestion_sources()
    except ValidationError as exc:
        return diagnostics_from(exc, doc, IngestionSection)
    return []


def _spec_path(product: Path) -> Path:
    return product if product.suffix in {".yaml", ".yml"} else product / "floe.yaml"


def _manifest_path(ctx: CompileContext, spec_path: Path) -> Path:
    if ctx.options.manifest_path is not None:
        return ctx.options.manifest_path
    raw = ctx.spec_doc.data.get("platform") if ctx.spec_doc else None
    declared = raw.get("manifest") if isinstance(raw, dict) else None
    if isinstance(declared, str):
        path = (spec_path.parent / declared).resolve()
        if not path.is_file():
            assert ctx.spec_doc is not None
            raise InputError.single(
                E_MANIFEST_PATH,
                f"the platform manifest '{declared}' does not exist",
                ctx.spec_doc.location(("platform", "manifest")),
                field_path="platform.manifest",
                hint="the path is relative to this floe.yaml; or pass --manifest PATH",
            )
        return path
    if os.environ.get(MANIFEST_ENV):
        return Path(os.environ[MANIFEST_ENV])
    for folder in (spec_path.parent.resolve(), *spec_path.parent.resolve().parents):
        candidate = folder / "manifest.yaml"
        if candidate.is_file():
            return candidate
    raise InputError.single(
        E_MANIFEST_PATH,
        "no platform manifest: floe.yaml sets no 'platform.manifest' and no manifest.yaml "
        "was found in this directory or above",
        Location(str(spec_path), 1, 1),
        field_path="platform.manifest",
        hint="add 'platform: {manifest: ../manifest.yaml}' to floe.yaml, or pass --manifest PATH",
    )


def _merge(base: Any, overlay: Any) -> Any:
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for key, value in overlay.items():
            out[key] = _merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(overlay)


def _rekey(
    marks: dict[PathKey, tuple[int, int]], prefix: PathKey
) -> dict[PathKey, tuple[int, int]]:
    n = len(prefix)
    return {k[n:]: v for k, v in marks.items() if k[:n] == prefix and len(k) > n}


def manifest_for_env(doc: YamlDocument, env: str) -> Manifest:
    """Validate the manifest, then the manifest with ``environments[env]`` merged over it."""
    base = validate_document(Manifest, doc, "Manifest")
    if not base.environments:
        return base
    if env not in base.environments:
        raise InputError.single(
            E_ENV,
            f"unknown environment '{env}' (the manifest defines: "
            f"{', '.join(sorted(base.environments))})",
            doc.location(("environments",), key=True),
            field_path="environments",
            hint="pass --env with one of those, or add the environment to the manifest",
        )
    prefix: PathKey = ("environments", env)
    merged = _merge(
        {k: v for k, v in doc.data.items() if k != "environments"}, base.environments[env]
    )
    merged["environments"] = doc.data["environments"]
    overlay_doc = YamlDocument(
        doc.path,
        merged,
        doc.text,
        {**doc.value_marks, **_rekey(doc.value_marks, prefix)},
        {**doc.key_marks, **_rekey(doc.key_marks, prefix)},
    )
    return validate_document(Manifest, overlay_doc, "Manifest")
