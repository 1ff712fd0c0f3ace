"""One compiled product on its platform: what every use case that runs something holds.

:func:`open_product` compiles the product (its files read once; with ``gate``, the live
schema read once LOAD has read them, why the gate cannot run told to ``warn`` exactly as
``floe compile`` tells it), resolves the product's plugins once — taking over what the live-schema
read already opened — and keeps the artifacts in memory for Dagster. :func:`located_product` is
the same for the Dagster code location, which starts from the artifacts compile wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from floe.errors import Diagnostic
from floe.runtime.home import PlatformHome
from floe.runtime.resolved import ResolvedPlugins
from floe.spec.artifacts import CompiledArtifacts

if TYPE_CHECKING:
    import dagster as dg


@dataclass
class Product:
    """A compiled product: artifacts in memory, its platform home, its plugins resolved once."""

    product_dir: Path
    compiled_dir: Path
    artifacts: CompiledArtifacts
    home: PlatformHome
    plugins: ResolvedPlugins
    #: Tags of the product job (an environment's code location: the digest it serves).
    job_tags: dict[str, str] = field(default_factory=dict)
    _defs: Any = field(default=None, repr=False)

    @property
    def namespace(self) -> str:
        """The product's Iceberg namespace (and the prefix of its Dagster names)."""
        return self.artifacts.metadata.namespace

    def definitions(self) -> dg.Definitions:
        """The product's Dagster definitions, built once from the artifacts in memory."""
        if self._defs is None:
            from floe.orchestrate.definitions import build_definitions

            self._defs = build_definitions(
                self.product_dir, self.compiled_dir, self.home, self.artifacts, self.plugins,
                self.job_tags,
            )  # fmt: skip
        defs: dg.Definitions = self._defs
        return defs

    def job(self, suffix: str) -> Any:
        """The product's job ``<namespace>_<suffix>`` (``job``, ``retention``)."""
        return self.definitions().resolve_job_def(f"{self.namespace}_{suffix}")

    def instance(self) -> Any:
        """The persistent Dagster instance of the platform home."""
        from floe.orchestrate.adapters.dagster_instance import open_instance

        return open_instance(self.home.dagster)


def open_product(
    product_dir: Path,
    manifest: Path | None = None,
    env: str = "dev",
    *,
    gate: bool = False,
    allow_breaking_reason: str | None = None,
    warn: Callable[[Diagnostic], None] | None = None,
) -> Product:
    """Compile ``product_dir`` (with ``gate``: the breaking-change gate against its live
    tables) and hold it with its platform's plugins, resolved once."""
    from floe.compile.api import compile_product
    from floe.runtime.live_schema import LiveReader
    from floe.runtime.platform import check_isolated

    reader = LiveReader(warn or (lambda _: None)) if gate else None
    ctx = compile_product(product_dir, manifest=manifest, env=env, read_live=reader,
                          allow_breaking_reason=allow_breaking_reason)  # fmt: skip
    assert ctx.artifacts is not None
    assert ctx.manifest_doc is not None
    check_isolated(ctx.manifest_doc.path, env)  # E645: the env would write another's tables
    home = PlatformHome.for_manifest(ctx.manifest_doc.path, env)
    home.ensure()
    plugins = ResolvedPlugins(ctx.artifacts.plugins, home)  # the product's own choices
    if reader is not None and reader.plugins is not None:
        plugins.reuse(reader.plugins)  # what the live-schema read already opened
    return Product(
        product_dir.resolve(), ctx.options.output_dir.resolve(), ctx.artifacts, home, plugins
    )


def located_product(*, compiled_dir: Path, product_dir: Path, manifest: Path) -> Product:
    """The product ``floe compile`` wrote into ``compiled_dir`` (the code location's view)."""
    from floe.orchestrate.definitions import load_artifacts

    artifacts = load_artifacts(compiled_dir)
    home = PlatformHome.for_manifest(manifest, artifacts.environment)
    home.ensure()
    return Product(
        product_dir.resolve(),
        compiled_dir.resolve(),
        artifacts,
        home,
        ResolvedPlugins(artifacts.plugins, home),
    )
