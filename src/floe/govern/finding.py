"""What a policy looks at (:class:`PolicyInput`) and what it reports (:class:`Finding`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from floe.errors import Diagnostic, Location
from floe.spec.dbt_project import DbtModel, DbtProject
from floe.spec.floe_spec import FloeSpec
from floe.spec.manifest import Governance, Manifest
from floe.spec.yamlload import YamlDocument


class Finding(NamedTuple):
    """A policy violation before its severity is decided."""

    code: str
    policy: str
    message: str
    location: Location | None
    hint: str = ""
    model: str | None = None
    quality_gate: bool = False


@dataclass(frozen=True)
class PolicyInput:
    """What policies look at."""

    spec: FloeSpec
    spec_doc: YamlDocument
    project: DbtProject
    governance: Governance
    secret_findings: tuple[Diagnostic, ...]
    manifest: Manifest | None = None

    def transform_location(self, name: str) -> Location:
        """Where floe.yaml lists the transform ``name``."""
        index = next(i for i, t in enumerate(self.spec.transforms) if t.name == name)
        return self.spec_doc.location(("transforms", index, "name"))

    def model_location(self, model: DbtModel) -> Location:
        """The model's entry in its schema YAML, else its SQL file."""
        return model.properties_location or self.project.model_location(model.name)

    def transform_models(self) -> list[tuple[str, DbtModel]]:
        """(tier, model) for every transform that has a dbt model."""
        models = self.project.models
        return [(str(t.tier), models[t.name]) for t in self.spec.transforms if t.name in models]
