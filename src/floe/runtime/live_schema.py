"""Read a product's live Iceberg schemas for the breaking-change gate (used by the CLI).

Compile stays pure: this adapter hands ``compile_product`` a plain
``{table: [(column, type)]}`` and each table's partition spec and sort order (a
:class:`~floe.govern.schema_gate.LiveState`) — read before it, or through ``read_live=`` once
LOAD has read the files (:func:`read_for_loaded`, so they are read once). The embedded SQLite
catalog with a local warehouse is read directly (the catalog row, then the table's metadata JSON
— fast, no pyiceberg import); any other catalog goes through PyIceberg.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from floe import events
from floe.errors import Diagnostic, FloeError, Location
from floe.govern.schema_gate import LiveState
from floe.plugins.registry import E_CONFIG as E_PLUGIN_CONFIG
from floe.runtime.adapters.sql_catalog import table_locations
from floe.runtime.resolved import ResolvedPlugins
from floe.spec.partitioning import Layout, PartitionField, SortField, from_iceberg

if TYPE_CHECKING:
    from floe.compile.context import CompileContext

W_GATE = "W150"
LiveTables = dict[str, list[tuple[str, str]]]
LiveLayouts = dict[str, Layout]


@dataclass(frozen=True)
class LiveRead:
    """The live schema (None: the gate could not run) and why not, if it could not; the
    tables' partition specs and sort orders."""

    tables: LiveTables | None
    warning: Diagnostic | None = None
    layouts: LiveLayouts = field(default_factory=dict)

    @property
    def state(self) -> LiveState | None:
        """What the gate compares against (None: it cannot run)."""
        return None if self.tables is None else LiveState(self.tables, self.layouts)


def read_for_product(product_dir: Path, manifest: Path | None, env: str) -> LiveRead:
    """The live schema of the product's namespace on the platform its manifest describes."""
    from floe.compile.context import CompileContext, CompileOptions
    from floe.compile.stages.load import LoadStage
    from floe.plugins.registry import default_registry

    ctx = CompileContext(CompileOptions(Path(product_dir), manifest, env), default_registry())
    LoadStage().run(ctx)
    return read_for_loaded(ctx)


def read_for_loaded(ctx: CompileContext) -> LiveRead:
    """:func:`read_for_product` for a product whose files LOAD has already read."""
    return read_namespace(plugins_of_loaded(ctx), namespace_of_loaded(ctx))


def plugins_of_loaded(ctx: CompileContext) -> ResolvedPlugins:
    """The plugins the loaded manifest chooses, on the platform home it serves."""
    from floe.runtime.home import PlatformHome
    from floe.runtime.platform import manifest_plugins

    assert ctx.manifest_doc is not None, "LOAD must run first"
    home = PlatformHome.for_manifest(ctx.manifest_doc.path, ctx.options.env)
    return ResolvedPlugins(manifest_plugins(ctx.need_manifest()), home)


def namespace_of_loaded(ctx: CompileContext) -> str:
    """The Iceberg namespace of the loaded product."""
    from floe.compile.stages.build import namespace_of

    return namespace_of(ctx.need_spec().metadata.name)


class LiveReader:
    """The ``read_live`` of ``compile_product`` for every command that gates (compile, validate,
    run): the live schema once LOAD has read the files; why the gate cannot run goes to
    ``warn`` — the same words for every command. The plugins it resolved to read are kept
    (``plugins``), so a run that follows uses the same ones."""

    def __init__(self, warn: Callable[[Diagnostic], None]) -> None:
        self.warn = warn
        self.plugins: ResolvedPlugins | None = None

    def __call__(self, ctx: CompileContext) -> LiveState | None:
        """The live tables of the loaded product (None: the gate cannot run, warned)."""
        self.plugins = plugins_of_loaded(ctx)
        live = read_namespace(self.plugins, namespace_of_loaded(ctx))
        if live.warning is not None:
            self.warn(live.warning)
        return live.state


def live_reader(warn: Callable[[Diagnostic], None]) -> LiveReader:
    """A :class:`LiveReader` that tells ``warn`` why the gate cannot run."""
    return LiveReader(warn)


def read_namespace(plugins: ResolvedPlugins, namespace: str) -> LiveRead:
    """Every table of ``namespace`` with its current schema ({} when there is none yet)."""
    ref = plugins.choices.get("catalog")
    if ref is None:
        return LiveRead(None, _warning("the platform configures no catalog"))
    config = dict(ref.config)
    if ref.type == "sql" and not config.get("uri"):
        db = plugins.home.root / "catalog.db"
        fast = _read_embedded(db, str(config.get("name", "floe")), namespace)
        if fast is not None:
            return LiveRead({t: cols for t, (cols, _) in fast.items()}, None,
                            {t: layout for t, (_, layout) in fast.items()})  # fmt: skip
    return _read_with_pyiceberg(plugins, namespace)


def _read_embedded(
    db: Path, catalog: str, namespace: str
) -> dict[str, tuple[list[tuple[str, str]], Layout]] | None:
    """The SQLite catalog's rows and local metadata files; None when PyIceberg must read."""
    rows = table_locations(db, catalog, namespace)
    if rows is None:
        return None
    out: dict[str, tuple[list[tuple[str, str]], Layout]] = {}
    for name, location in rows:
        parsed = urlparse(location)
        if parsed.scheme not in ("", "file"):
            return None
        try:
            out[name] = _schema_from_metadata(Path(unquote(parsed.path)))
        except (OSError, ValueError, KeyError, StopIteration):
            return None  # a metadata file this reader cannot follow: PyIceberg reads
    return out


def _schema_from_metadata(path: Path) -> tuple[list[tuple[str, str]], Layout]:
    """The current schema and the default partition spec and sort order of a metadata file
    (the Iceberg table spec's JSON: ``partition-specs``, ``sort-orders``)."""
    raw = path.read_bytes()
    data = json.loads(gzip.decompress(raw) if path.name.endswith(".gz.metadata.json") else raw)
    current = data.get("current-schema-id", 0)
    schema = next(s for s in data["schemas"] if s.get("schema-id") == current)
    names = {f["id"]: f["name"] for f in schema["fields"]}
    spec_id, order_id = data.get("default-spec-id", 0), data.get("default-sort-order-id", 0)
    specs: list[dict[str, Any]] = data.get("partition-specs", [])
    orders: list[dict[str, Any]] = data.get("sort-orders", [])
    spec = next((s for s in specs if s.get("spec-id") == spec_id), {})
    order = next((o for o in orders if o.get("order-id") == order_id), {})
    parts = [from_iceberg(str(f["transform"]), names[f["source-id"]])
             for f in spec.get("fields", []) if f["source-id"] in names]  # fmt: skip
    sorts = [SortField(names[f["source-id"]], f.get("direction") == "desc")
             for f in order.get("fields", []) if f["source-id"] in names]  # fmt: skip
    layout = Layout(tuple(p for p in parts if isinstance(p, PartitionField)), tuple(sorts))
    return [(f["name"], _type_text(f["type"])) for f in schema["fields"]], layout


def _type_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value.get("type", "nested"))


def _read_with_pyiceberg(plugins: ResolvedPlugins, namespace: str) -> LiveRead:
    from pyiceberg.exceptions import (
        AuthorizationExpiredError,
        ForbiddenError,
        NoSuchNamespaceError,
        OAuthError,
        UnauthorizedError,
    )

    from floe.runtime.layout import table_layout

    try:
        catalog = plugins.catalog()
        out: LiveTables = {}
        layouts: LiveLayouts = {}
        for ident in sorted(catalog.list_tables(namespace)):
            table = catalog.load_table(ident)
            out[ident[-1]] = [(f.name, str(f.field_type)) for f in table.schema().fields]
            layouts[ident[-1]] = table_layout(table)
        return LiveRead(out, None, layouts)
    except NoSuchNamespaceError:
        return LiveRead({})
    except FloeError as exc:  # the catalog's errors (auth failures already logged)
        first = exc.diagnostics[0]
        if first.code == E_PLUGIN_CONFIG:
            return LiveRead(None, _warning(f"catalog config invalid: {first.message}", first.hint))
        return LiveRead(None, _warning(first.message))
    except (UnauthorizedError, ForbiddenError, AuthorizationExpiredError, OAuthError) as exc:
        events.security_event(events.CATALOG_AUTH_FAILED, namespace=namespace,
                              error=type(exc).__name__)  # fmt: skip
        return LiveRead(
            None, _warning(f"the catalog refused floe's credentials ({type(exc).__name__})")
        )
    except Exception as exc:  # an unreachable catalog must not hide the compile result
        return LiveRead(None, _warning(f"the catalog could not be read ({type(exc).__name__})"))


def _warning(why: str, fix: str = "") -> Diagnostic:
    return Diagnostic(
        W_GATE,
        f"breaking-change gate skipped: {why}",
        Location("manifest.yaml"),
        "plugins.catalog",
        fix
        or "check the catalog (floe platform status), or pass --offline to skip the gate knowingly",
        severity="warning",
    )
