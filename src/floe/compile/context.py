"""What the stages share: the options, the loaded inputs and each stage's result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from floe.errors import Diagnostic
from floe.govern.schema_derive import DeriveCache
from floe.plugins.base import Plugin
from floe.plugins.registry import PluginRegistry
from floe.spec.artifacts import CompiledArtifacts, EnforcementResultSummary
from floe.spec.dbt_project import DbtProject
from floe.spec.floe_spec import FloeSpec
from floe.spec.manifest import Governance, Manifest
from floe.spec.partitioning import Layout
from floe.spec.yamlload import YamlDocument


class CompileOptions(NamedTuple):
    """What the user asked for."""

    product_dir: Path
    manifest_path: Path | None = None
    env: str = "dev"
    out_dir: Path | None = None
    #: The product's live Iceberg schemas ``{table: [(column, type)]}``, read by the caller
    #: (compile itself never touches the catalog); None: not checked.
    live_schema: Mapping[str, Sequence[tuple[str, str]]] | None = None
    #: The live tables' partition specs and sort orders (the gate reports changes of them).
    live_layouts: Mapping[str, Layout] | None = None
    #: ``--allow-breaking --reason``: breaking schema changes are accepted and recorded.
    allow_breaking_reason: str | None = None

    @property
    def output_dir(self) -> Path:
        """Where GENERATE writes (default ``<product>/target/floe``)."""
        return self.out_dir or self.product_dir / "target" / "floe"


@dataclass
class Resolved:
    """RESOLVE's result: effective plugins, governance and schedule."""

    plugins: dict[str, tuple[str, str, dict[str, Any]]]  # category -> (type, version, config)
    instances: dict[str, Plugin]
    governance: Governance
    compute_by_model: dict[str, str]
    schedule: tuple[str, str, bool]
    secret_findings: list[Diagnostic] = field(default_factory=list)
    #: engines of transforms other than the product's: type -> (version, config, plugin)
    computes: dict[str, tuple[str, dict[str, Any], Plugin]] = field(default_factory=dict)


class StageTiming(NamedTuple):
    """How long a stage took (reported and traced, never written to artifacts)."""

    name: str
    seconds: float
    start_ns: int = 0  # wall clock (time.time_ns) at the stage's start and end
    end_ns: int = 0
    error: str = ""  # the exception type that ended the stage, if one did


@dataclass
class CompileContext:
    """State threaded through the stages."""

    options: CompileOptions
    registry: PluginRegistry
    spec_doc: YamlDocument | None = None
    manifest_doc: YamlDocument | None = None
    spec: FloeSpec | None = None
    manifest: Manifest | None = None
    project: DbtProject | None = None
    resolved: Resolved | None = None
    enforcement: EnforcementResultSummary | None = None
    artifacts: CompiledArtifacts | None = None
    profiles: dict[str, Any] | None = None
    written: list[Path] = field(default_factory=list)
    timings: list[StageTiming] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    derive_cache: DeriveCache | None = None  # ENFORCE's derived schemas, saved by GENERATE
    #: The declared quality checks and the problems of their files (floe.compile.quality).
    declared_checks: tuple[list[Any], list[Diagnostic]] | None = None

    def need_spec(self) -> FloeSpec:
        """The loaded floe.yaml (a stage ordering bug otherwise)."""
        assert self.spec is not None, "LOAD must run first"
        return self.spec

    def need_manifest(self) -> Manifest:
        """The loaded, environment-merged manifest."""
        assert self.manifest is not None, "LOAD must run first"
        return self.manifest

    def need_project(self) -> DbtProject:
        """The dbt project."""
        assert self.project is not None, "LOAD must run first"
        return self.project

    def need_resolved(self) -> Resolved:
        """RESOLVE's result."""
        assert self.resolved is not None, "RESOLVE must run first"
        return self.resolved
