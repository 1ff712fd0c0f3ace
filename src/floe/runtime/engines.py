"""Which runner runs a product: the one dispatch point (``orchestrate/definitions.py``).

One engine: its runner (:func:`floe.runtime.spark.runner.product_runner` — DuckDB's or
Spark's). Engines mixed by floe.yaml ``transforms[].compute``: the waves of
:mod:`floe.runtime.waves`, each engine's runner on its dbt target.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from floe.errors import FloeError, Location
from floe.runtime.runner import DbtInvoke, RunReport, RunSpec
from floe.runtime.spark.runner import ProductRunner
from floe.runtime.waves import EngineRun, engines_of, run_waves

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from floe.runtime.resolved import ResolvedPlugins

E_NO_ENGINE = "E696"


def product_runner(artifacts: Any, plugins: ResolvedPlugins) -> ProductRunner:
    """How the product runs: on its compute's runner, or in engine waves when its transforms
    mix engines."""
    from floe.runtime.spark import runner as spark

    engines = engines_of(artifacts)
    if len(engines) == 1:
        return spark.product_runner(artifacts, plugins)
    runners = {engine: _engine_run(artifacts, plugins, engine) for engine in sorted(engines)}
    targets = {engine: artifacts.dbt_target(engine) for engine in engines}

    def run(spec: RunSpec, catalog: Catalog, invoke: DbtInvoke) -> RunReport:
        return run_waves(spec, catalog, invoke, runners, targets)

    return run


def _engine_run(artifacts: Any, plugins: ResolvedPlugins, engine: str) -> EngineRun:
    """One engine's runner (without the product lock, which the waves hold), its compute
    plugin configured as compiled (``artifacts.computes`` for an engine besides the
    product's)."""
    from floe.runtime import runner as duckdb
    from floe.runtime.resolved import ResolvedPlugins
    from floe.runtime.spark import runner as spark

    if engine != "spark":
        return duckdb._run_locked
    choice = artifacts.plugins["compute"]
    if choice.type != engine:
        choice = artifacts.computes.get(engine)
        if choice is None:
            raise FloeError.single(
                E_NO_ENGINE,
                f"a transform runs on compute '{engine}' but the compiled artifacts carry no "
                "configuration of it (compiled by an older floe)",
                Location("floe.yaml"),
                field_path="transforms",
                hint="compile the product again (floe compile) with this floe",
            )
    own = ResolvedPlugins({**artifacts.plugins, "compute": choice}, plugins.home).reuse(plugins)
    target = spark.spark_target(own)

    def run(spec: RunSpec, catalog: Catalog, invoke: DbtInvoke) -> RunReport:
        return spark._run_locked(spec, catalog, invoke, target)

    return run
