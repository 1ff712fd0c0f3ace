"""The platform home: where the embedded platform keeps its state.

``FLOE_HOME`` (default: ``.floe/`` beside the manifest) holds the Iceberg catalog
(``catalog.db``), the warehouse (``warehouse/``), the Dagster instance (``dagster/``) and the
run records (``runs/``). Iceberg is the only data state; everything else is bookkeeping.
The home remembers the manifest it was created from (``manifest.path``), so a command run
elsewhere with only ``FLOE_HOME`` set finds its platform.

Each environment of the manifest has a home of its own: the first environment the manifest
lists keeps the home's root, every other one ``envs/<env>/`` inside it — its own catalog,
warehouse, Dagster instance and run records (docs/promotion.md#environments).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

from floe.errors import FloeError, Location

HOME_ENV = "FLOE_HOME"
MANIFEST_ENV = "FLOE_MANIFEST"
MANIFEST_RECORD = "manifest.path"
ENVS_DIR = "envs"
E_NO_MANIFEST = "E120"
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
    #: The manifest this home serves (recorded by :meth:`ensure` when the home has none yet).
    manifest: Path | None = field(default=None, compare=False)

    @classmethod
    def for_manifest(cls, manifest_path: Path, env: str | None = None) -> PlatformHome:
        """``$FLOE_HOME`` when set, else ``.floe`` beside the manifest; with ``env``, that
        environment's home (:meth:`of_env`)."""
        found = os.environ.get(HOME_ENV)
        root = Path(found) if found else manifest_path.resolve().parent / ".floe"
        home = cls(root.resolve(), manifest_path.resolve())
        return home.of_env(env, first_environment(manifest_path)) if env else home

    def of_env(self, env: str, first: str | None) -> PlatformHome:
        """The home of ``env``: this root for the manifest's first environment ``first`` (or
        any environment when the manifest lists none), ``envs/<env>`` below it otherwise."""
        if first is None or env == first:
            return self
        return PlatformHome(self.root / ENVS_DIR / env, self.manifest)

    @classmethod
    def from_env(cls) -> PlatformHome | None:
        """The home ``$FLOE_HOME`` names, if it is set."""
        env = os.environ.get(HOME_ENV)
        return cls(Path(env).resolve()) if env else None

    def remembered_manifest(self) -> Path | None:
        """The manifest this home was created from, while that file still exists."""
        try:
            text = (self.root / MANIFEST_RECORD).read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return Path(text) if text and Path(text).is_file() else None

    def remember_manifest(self, *, replace: bool) -> None:
        """Record :attr:`manifest` in the home (``replace``: even when one is recorded)."""
        record = self.root / MANIFEST_RECORD
        if self.manifest is not None and (replace or not record.exists()):
            record.write_text(f"{self.manifest}\n", encoding="utf-8")

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

    def product_lock(self, namespace: str) -> Path:
        """The lock a run of the product and the maintenance of its tables share."""
        return self.scratch(namespace).with_suffix(".lock")

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
        self.remember_manifest(replace=False)


def first_environment(manifest_path: Path) -> str | None:
    """The first environment ``manifest_path`` lists (None: it lists none or is unreadable)."""
    try:
        mtime = manifest_path.stat().st_mtime_ns
    except OSError:
        return None
    return _first_environment(str(manifest_path.resolve()), mtime)


@functools.lru_cache(maxsize=32)
def _first_environment(path: str, _mtime: int) -> str | None:
    import yaml

    # libyaml's loader when PyYAML has it (as floe.spec.yamlload): the pure-Python one costs
    # a short command like `floe compile` several milliseconds for this one key.
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = (
            yaml.load(text, Loader=yaml.CSafeLoader)
            if yaml.__with_libyaml__
            else yaml.safe_load(text)
        )
    except (OSError, yaml.YAMLError):
        return None
    envs = data.get("environments") if isinstance(data, dict) else None
    return str(next(iter(envs))) if isinstance(envs, dict) and envs else None


def find_manifest(given: Path | None) -> Path:
    """--manifest, else $FLOE_MANIFEST, else the nearest manifest.yaml at or above the cwd,
    else the manifest the platform home in $FLOE_HOME was created from."""
    if given is not None:
        return given
    if os.environ.get(MANIFEST_ENV):
        return Path(os.environ[MANIFEST_ENV])
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "manifest.yaml").is_file():
            return folder / "manifest.yaml"
    home = PlatformHome.from_env()
    remembered = home.remembered_manifest() if home else None
    if remembered is not None:
        return remembered
    raise FloeError.single(
        E_NO_MANIFEST, "no platform manifest found in this directory or above", Location(str(here)),
        hint="pass --manifest PATH (e.g. --manifest demo/manifest.yaml), or set FLOE_HOME to a "
        "platform home made by 'floe platform up'",
    )  # fmt: skip
