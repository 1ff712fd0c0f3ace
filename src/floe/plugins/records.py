"""The values floe and its plugins hand each other: a dbt invocation and its outcome, the
semantic layer's models, an ingestion request and its load, quality checks and their results,
the network scope of a product's workloads.

They live apart from the ABCs (floe.plugins.abcs, which still exports them) so that a short
command such as ``floe compile``, which only needs the ABCs, does not build them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from floe.plugins.base import SecretResolver
    from floe.spec.ingestion import IngestionSource


@dataclass(frozen=True)
class DbtInvocation:
    """One dbt command as floe asks for it: ``dbt <args>`` on a project with its compiled
    profile, run artefacts and logs in ``target_path``, extra environment (resolved secret
    values, the scratch database) and the callbacks that receive each dbt event (objects with
    dbt's ``info``/``data`` attributes: ``event.info.name``, ``event.data.node_info``…)."""

    args: tuple[str, ...]
    project_dir: Path
    profiles_dir: Path
    target: str
    target_path: Path
    env: Mapping[str, str] = field(default_factory=dict)
    callbacks: tuple[Callable[[Any], None], ...] = ()

    def argv(self) -> list[str]:
        """The command line after ``dbt``: the args, then where the project, profile and
        artefacts are (``deps`` takes no target)."""
        argv = [
            *self.args,
            "--project-dir", str(self.project_dir),
            "--profiles-dir", str(self.profiles_dir),
            "--log-path", str(self.target_path),
        ]  # fmt: skip
        if self.args[0] != "deps":
            if "--target" not in self.args:  # a run of engines mixed names each wave's
                argv += ["--target", self.target]
            argv += ["--target-path", str(self.target_path)]
        return argv


@dataclass(frozen=True)
class DbtOutcome:
    """What became of an invocation: ``error`` when dbt itself broke (a failing model or test
    is not an error: it is in ``run_results.json``); ``result`` what dbt returned, if the
    plugin has it in process (dbt's ``dbtRunnerResult.result``)."""

    success: bool
    error: str | None = None
    result: Any = None


@dataclass(frozen=True)
class SemanticColumn:
    """A column of a model the semantic layer serves: ``data_type`` in floe's canonical
    spelling (``long``, ``string``, ``decimal(18,2)``, ``timestamp``…; None when unknown),
    its dbt tests by name and its dbt ``meta``."""

    name: str
    data_type: str | None = None
    description: str = ""
    tests: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class SemanticModel:
    """A gold model: the warehouse table it is published as (``namespace.table``), its
    columns, the dbt ``unique_key`` and ``meta`` of the model."""

    name: str
    table: str
    description: str = ""
    columns: tuple[SemanticColumn, ...] = ()
    unique_key: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class SemanticProblem:
    """What the semantic layer's own loader refused: the file, the model it describes (when
    known) and the loader's message."""

    file: str
    model: str | None
    message: str


@dataclass(frozen=True)
class SemanticLoaded:
    """A model as the semantic layer loaded it: its members and their types there."""

    model: str
    dimensions: Mapping[str, str] = field(default_factory=dict)
    measures: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SemanticValidation:
    """What the semantic layer's loader made of the data model."""

    loaded: tuple[SemanticLoaded, ...] = ()
    problems: tuple[SemanticProblem, ...] = ()


@dataclass(frozen=True)
class IngestionRequest:
    """One resource of a floe.yaml ingestion source to load into the scratch DuckDB
    ``database`` (schema ``dataset``, table named as the resource): ``cursors`` are the
    incremental cursors published by earlier runs (cursor → last value; empty: a first load,
    from the resource's ``initial_value``); ``workdir`` a folder of its own, deleted after;
    ``base_dir`` the product directory (relative folders); ``resolve`` turns the source's
    secret references into values (at run time only)."""

    source: IngestionSource
    resource: str
    database: Path
    dataset: str
    workdir: Path
    base_dir: Path
    resolve: SecretResolver
    cursors: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestionLoad:
    """What a load left in the scratch database: the table ``dataset.relation`` with the
    resource's rows (``rows`` of them) and the incremental cursors after it (cursor → last
    value; only the ones that moved or were given)."""

    resource: str
    relation: str
    rows: int
    cursors: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QualityCheck:
    """One check a product declares for a model: its type (a name of the plugin's
    :meth:`QualityPlugin.check_names`), its arguments, and where it is declared
    (``floe.yaml:12:9``, for the messages)."""

    type: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    where: str = ""

    @property
    def label(self) -> str:
        """How reports name it: ``type(column=amount)`` (its column, if it has one)."""
        column = self.kwargs.get("column")
        return f"{self.type}(column={column})" if column is not None else self.type


@dataclass(frozen=True)
class CheckResult:
    """What one check found: whether it passed, the column it was about, and a short account
    (unexpected values, counts, or why it could not be evaluated)."""

    check: QualityCheck
    success: bool
    detail: str = ""

    @property
    def name(self) -> str:
        """The check's label (what the run summary, lineage and metrics show)."""
        return self.check.label

    @property
    def column(self) -> str | None:
        """The column the check is about (None: the table)."""
        column = self.check.kwargs.get("column")
        return None if column is None else str(column)


@dataclass(frozen=True, order=True)
class Destination:
    """One host:port a product's pods must reach, and why: ``purpose`` (catalog, storage,
    tracing, …) and ``source``, the config path that declared it."""

    purpose: str
    host: str
    port: int
    source: str


@dataclass(frozen=True)
class NetworkScope:
    """What ``floe k8s generate`` worked out for one product's workloads, handed to the
    network_security plugin: where they run, which labels select their pods, which labels
    the generated resources carry, and every destination they must reach (DNS aside)."""

    product: str
    namespace: str
    selector: Mapping[str, str]
    labels: Mapping[str, str]
    destinations: tuple[Destination, ...] = ()
    cluster_domain: str = "cluster.local"
