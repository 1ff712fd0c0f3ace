"""Semantic layer: ``cube`` (Cube data-model YAML of the gold models) and ``none``.

One file per gold model, ``<model>.yml``, holding one cube named like the model:

* ``sql_table`` — the Iceberg table the model is published as (``namespace.table``);
* ``dimensions`` — every documented column, typed from its data type (:func:`cube_type`);
  the primary key is the column with ``meta.cube.primary_key: true``, else the model's
  ``meta.cube.primary_key``, else a single-column ``unique_key``, else the first documented column
  with both ``unique`` and ``not_null`` tests;
* ``measures`` — ``count`` always; a column's ``meta.cube.measures: [sum, avg, …]`` adds
  ``<column>_<type>`` over that column; the model's ``meta.cube.measures`` adds measures of
  its own: ``{name, type, column}`` (over a column, written as Cube's member reference
  ``{column}``, so Cube's compiler reports a column that is not there) or ``{name, type,
  sql}``. Anything else in a measure (``title``, ``format``, ``filters``…) is passed to Cube.

The output is sorted and dumped with fixed settings: the same models give the same bytes.
Validation loads the files with Cube's own schema compiler (floe.plugins.adapters.cube).
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import BaseModel, ConfigDict, Field

from floe.plugins.abcs import SemanticLayerPlugin
from floe.plugins.adapters import cube
from floe.plugins.base import EmptyConfig, HealthState, HealthStatus
from floe.plugins.records import (
    SemanticColumn,
    SemanticLoaded,
    SemanticModel,
    SemanticProblem,
    SemanticValidation,
)

#: floe's canonical column types (floe.govern.schema_types) → Cube dimension types.
_CUBE_TYPES = {
    "int": "number", "long": "number", "float": "number", "double": "number",
    "string": "string", "uuid": "string", "binary": "string",
    "date": "time", "time": "time", "timestamp": "time", "timestamptz": "time",
    "boolean": "boolean",
}  # fmt: skip
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_JINJA = re.compile(r"\{\{|\}\}|\{%|%\}")  # Cube renders a file holding these as Jinja


def cube_type(data_type: str | None) -> str:
    """The Cube dimension type of a canonical column type; ``string`` when unknown."""
    if data_type and data_type.startswith("decimal"):
        return "number"
    return _CUBE_TYPES.get(data_type or "", "string")


class CubeConfig(BaseModel):
    """Where Cube's schema compiler is installed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    compiler_dir: str | None = Field(
        default=None,
        description="npm prefix holding node_modules/@cubejs-backend/schema-compiler "
        "(default: <python environment>/cube, where `make setup` installs it).",
    )
    node: str = Field(default="node", description="The Node.js executable (20 or later).")


class CubeSemanticLayerPlugin(SemanticLayerPlugin[CubeConfig]):
    """Cube data-model YAML of the gold models, loaded by Cube's schema compiler."""

    name: ClassVar[str] = "cube"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = (
        "Cube data model (cubes, dimensions, measures) of the gold models, validated by "
        "Cube's schema compiler"
    )

    def data_model(self, models: list[SemanticModel]) -> dict[str, str]:
        """One ``<model>.yml`` per model."""
        return {f"{m.name}.yml": _dump({"cubes": [cube_of(m)]}) for m in models}

    def validate(self, directory: Path) -> SemanticValidation:
        """Cube's compiler over every file of ``directory``: the cubes as Cube compiled them
        (members without the ``cube.`` prefix), or its messages."""
        load = cube.compile_folder(self.node(), self.compiler_dir(), directory)
        problems = [
            SemanticProblem(e.file or "", _model_of(e.file), e.message) for e in load.errors
        ]
        loaded = [
            SemanticLoaded(c.name, _members(c.name, c.dimensions), _members(c.name, c.measures))
            for c in load.cubes
        ]
        return SemanticValidation(tuple(loaded), tuple(problems))

    def health_check(self) -> HealthStatus:
        """Node.js and Cube's compiler are installed (degraded otherwise: the data model is
        still written, only its validation needs them)."""
        missing = cube.missing(self.node(), self.compiler_dir())
        if missing:
            return HealthStatus(HealthState.DEGRADED, missing)
        return HealthStatus(HealthState.HEALTHY, f"Cube's compiler in {self.compiler_dir()}")

    def compiler_dir(self) -> Path:
        """Where Cube's compiler is installed (an npm prefix)."""
        return Path(self.config.compiler_dir or Path(sys.prefix) / "cube")

    def node(self) -> str:
        """The Node.js executable."""
        return shutil.which(self.config.node) or self.config.node


class NoSemanticLayerPlugin(SemanticLayerPlugin[EmptyConfig]):
    """No semantic layer: nothing is generated."""

    name: ClassVar[str] = "none"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "No semantic layer (no data model is generated)"

    def data_model(self, models: list[SemanticModel]) -> dict[str, str]:
        """Nothing."""
        return {}


def cube_of(model: SemanticModel) -> dict[str, Any]:
    """The cube of one model (see the module docstring)."""
    key = primary_key(model)
    dimensions = [_dimension(c, c.name == key) for c in model.columns]
    measures = [{"name": "count", "type": "count"}]
    for column in model.columns:
        for kind in _as_list(_cube_meta(column.meta).get("measures")):
            measures.append(_column_measure(column.name, kind))
    for extra in _as_list(_cube_meta(model.meta).get("measures")):
        if isinstance(extra, Mapping):
            measures.append(_model_measure(extra))
    out: dict[str, Any] = {"name": model.name, "sql_table": model.table}
    if model.description:
        out["description"] = _text(model.description)
    out["dimensions"] = sorted(dimensions, key=lambda d: str(d["name"]))
    out["measures"] = sorted(measures, key=lambda m: str(m.get("name", "")))
    return out


def primary_key(model: SemanticModel) -> str | None:
    """The primary-key column (see the module docstring), or None."""
    names = {c.name for c in model.columns}
    flagged = [c.name for c in model.columns if _cube_meta(c.meta).get("primary_key") is True]
    if flagged:
        return flagged[0]
    declared = _cube_meta(model.meta).get("primary_key")
    if isinstance(declared, str) and declared in names:
        return declared
    if len(model.unique_key) == 1 and model.unique_key[0] in names:
        return model.unique_key[0]
    tested = [c.name for c in model.columns if {"unique", "not_null"} <= set(c.tests)]
    return tested[0] if tested else None


def _dimension(column: SemanticColumn, key: bool) -> dict[str, Any]:
    meta = _cube_meta(column.meta)
    kind = meta.get("type") if isinstance(meta.get("type"), str) else cube_type(column.data_type)
    out: dict[str, Any] = {"name": column.name, "sql": _column_sql(column.name), "type": kind}
    if column.description:
        out["description"] = _text(column.description)
    if key:
        out["primary_key"] = True
    return out


def _column_measure(column: str, kind: Any) -> dict[str, Any]:
    if isinstance(kind, Mapping):
        spec = {str(k): v for k, v in kind.items()}
        kind_name = str(spec.get("type", ""))
        return {"name": f"{column}_{kind_name}", "sql": f"{{{column}}}", **spec}
    return {"name": f"{column}_{kind}", "sql": f"{{{column}}}", "type": str(kind)}


def _model_measure(spec: Mapping[str, Any]) -> dict[str, Any]:
    out = {str(k): v for k, v in spec.items() if k != "column"}
    if "column" in spec:
        out["sql"] = f"{{{spec['column']}}}"
    return out


def _column_sql(name: str) -> str:
    return f"{{CUBE}}.{name}" if _PLAIN.match(name) else f'{{CUBE}}."{name}"'


def _cube_meta(meta: Mapping[str, Any]) -> Mapping[str, Any]:
    found = meta.get("cube")
    return found if isinstance(found, Mapping) else {}


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _text(text: str) -> str:
    """A description Cube will not take for a Jinja template."""
    return _JINJA.sub(lambda m: " ".join(m.group(0)), " ".join(text.split()))


def _members(cube_name: str, members: Mapping[str, str]) -> dict[str, str]:
    return {k.removeprefix(f"{cube_name}."): v for k, v in sorted(members.items())}


def _model_of(file: str | None) -> str | None:
    return file.rsplit(".", 1)[0] if file else None


def _dump(data: dict[str, Any]) -> str:
    header = "# Generated by floe compile from the gold models — do not edit.\n"
    return header + yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )
