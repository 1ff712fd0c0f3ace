"""The platform home: where the embedded platform keeps its state.

``FLOE_HOME`` (default: ``.floe/`` beside the manifest) holds the Iceberg catalog
(``catalog.db``), the warehouse (``warehouse/``), the Dagster instance (``dagster/``) and the
run records (``runs/``). Iceberg is the only data state; everything else is bookkeeping.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "FLOE_HOME"
DAGSTER_YAML = """\
# Dagster instance of the floe embedded platform
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: {runs}  # queued runs start one per core
"""


@dataclass(frozen=True)
class PlatformHome:
    """Paths inside the platform home."""

    root: Path

    @classmethod
    def for_manifest(cls, manifest_path: Path) -> PlatformHome:
        """``$FLOE_HOME`` when set, else ``.floe`` beside the manifest."""
        env = os.environ.get(HOME_ENV)
        root = Path(env) if env else manifest_path.resolve().parent / ".floe"
        return cls(root.resolve())

    @property
    def dagster(self) -> Path:
        """The persistent Dagster instance directory (DAGSTER_HOME)."""
        return self.root / "dagster"

    @property
    def runs(self) -> Path:
        """Per-run scratch space and records."""
        return self.root / "runs"

    def scratch(self, namespace: str) -> Path:
        """The product's scratch DuckDB path: one fixed path (so dbt's partial parse stays
        valid), emptied before and deleted after every phase, guarded by a lock."""
        return self.root / "scratch" / f"{namespace}.duckdb"

    @property
    def warehouse(self) -> Path:
        """Default local warehouse."""
        return self.root / "warehouse"

    def ensure(self) -> None:
        """Create the directories (idempotent)."""
        for path in (self.root, self.dagster, self.runs, self.warehouse):
            path.mkdir(parents=True, exist_ok=True)
        config = self.dagster / "dagster.yaml"
        if not config.exists():
            config.write_text(DAGSTER_YAML.format(runs=max(1, os.cpu_count() or 1)))
