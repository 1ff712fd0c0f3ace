"""Read a product's live Iceberg schemas for the breaking-change gate (used by the CLI).

Compile stays pure: this adapter hands ``compile_product`` a plain
``{table: [(column, type)]}`` — read before it, or through ``read_live=`` once LOAD has read
the files (:func:`read_for_loaded`, so they are read once). The embedded SQLite catalog with
a local warehouse is read directly (the catalog row, then the table's metadata JSON — fast,
no pyiceberg import); any other catalog goes through PyIceberg.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from floe import events
from floe.errors import Diagnostic, FloeError, Location
from floe.plugins.registry import E_CONFIG as E_PLUGIN_CONFIG
from floe.runtime.adapters.sql_catalog import table_locations
from floe.runtime.resolved import ResolvedPlugins

if TYPE_CHECKING:
    from floe.compile.context import CompileContext

W_GATE = "W150"
LiveTables = dict[str, list[tuple[str, str]]]


@dataclass(frozen=True)
class LiveRead:
    """The live schema (None: the gate could not run) and why not, if it could not."""

    tables: LiveTables | None
    warning: Diagnostic | None = None


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
    home = PlatformHome.for_manifest(ctx.manifest_doc.path)
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

    def __call__(self, ctx: CompileContext) -> LiveTables | None:
        """The live tables of the loaded product (None: the gate cannot run, warned)."""
        self.plugins = plugins_of_loaded(ctx)
        live = read_namespace(self.plugins, namespace_of_loaded(ctx))
        if live.warning is not None:
            self.warn(live.warning)
        return live.tables


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
            return LiveRead(fast)
    return _read_with_pyiceberg(plugins, namespace)


def _read_embedded(db: Path, catalog: str, namespace: str) -> LiveTables | None:
    """The SQLite catalog's rows and local metadata files; None when PyIceberg must read."""
    rows = table_locations(db, catalog, namespace)
    if rows is None:
        return None
    out: LiveTables = {}
    for name, location in rows:
        parsed = urlparse(location)
        if parsed.scheme not in ("", "file"):
            return None
        try:
            out[name] = _schema_from_metadata(Path(unquote(parsed.path)))
        except (OSError, ValueError, KeyError, StopIteration):
            return None  # a metadata file this reader cannot follow: PyIceberg reads
    return out


def _schema_from_metadata(path: Path) -> list[tuple[str, str]]:
    raw = path.read_bytes()
    data = json.loads(gzip.decompress(raw) if path.name.endswith(".gz.metadata.json") else raw)
    current = data.get("current-schema-id", 0)
    schema = next(s for s in data["schemas"] if s.get("schema-id") == current)
    return [(f["name"], _type_text(f["type"])) for f in schema["fields"]]


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

    try:
        catalog = plugins.catalog()
        out: LiveTables = {}
        for ident in sorted(catalog.list_tables(namespace)):
            schema = catalog.load_table(ident).schema()
            out[ident[-1]] = [(f.name, str(f.field_type)) for f in schema.fields]
        return LiveRead(out)
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
