"""Read a dbt project from its files — no dbt import, no network.

Gives compile what it needs: models (SQL refs, materialization, unique_key, the table layout
``partition_by``/``sort_by``), their YAML properties (descriptions, columns, data types, tests),
seeds and singular tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from floe.errors import InputError, Location
from floe.spec.partitioning import Layout, LayoutError, layout_of
from floe.spec.yamlload import YamlDocument, dotted, load_yaml

E_DBT = "E130"
E_PROPERTIES = "E131"
E_ENCODING = "E132"
E_DUPLICATE_MODEL = "E133"

_REF = re.compile(
    r"""\bref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?(?:,\s*v(?:ersion)?\s*=[^)]*)?\)"""
)
_CONFIG = re.compile(r"\{\{\s*config\s*\((.*?)\)\s*\}\}", re.DOTALL)
_KWARG_STR = r"""\b{key}\s*=\s*['"]([^'"]+)['"]"""
_KWARG_LIST = r"""\b{key}\s*=\s*\[([^\]]*)\]"""
_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
#: dbt-duckdb Python models: ``def model(dbt, session)``, ``dbt.ref("x")``, ``dbt.config(...)``.
_PY_MODEL = re.compile(r"^def\s+model\s*\(", re.MULTILINE)
_PY_REF = re.compile(r"""\bdbt\.ref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?\)""")
_PY_CONFIG = re.compile(r"\bdbt\.config\s*\((.*?)\)", re.DOTALL)
_SKIP_DIRS = {"target", "dbt_packages", "logs", "dbt_modules", ".floe"}


@dataclass(frozen=True)
class DbtTest:
    """A data test: generic (``not_null``…) on a column or model, or a singular SQL file."""

    name: str
    column: str | None = None
    config: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class DbtColumn:
    """A documented column of a model or seed."""

    name: str
    description: str = ""
    data_type: str | None = None
    tests: tuple[DbtTest, ...] = ()
    #: dbt ``meta`` (the property, with ``config.meta`` over it as dbt 1.10 merges them).
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class DbtModel:
    """One model: its SQL file plus its YAML properties."""

    name: str
    path: str
    sql: str
    refs: tuple[str, ...]
    materialization: str
    unique_key: tuple[str, ...] = ()
    description: str = ""
    columns: tuple[DbtColumn, ...] = ()
    tests: tuple[DbtTest, ...] = ()
    contract_enforced: bool = False
    on_schema_change: str = "ignore"
    meta: dict[str, Any] = field(default_factory=dict)  # dbt ``meta`` (config.meta over it)
    properties_location: Location | None = None
    language: str = "sql"
    #: ``partition_by``/``sort_by``/``schema`` as configured (config() in the file over the
    #: properties YAML over dbt_project.yml, as dbt does): key → (raw value, where it is set);
    #: a value this reader cannot know (Jinja) is ``(None, location)``, its key in
    #: ``config_unknown``.
    config_at: dict[str, tuple[Any, Location]] = field(default_factory=dict)
    config_unknown: frozenset[str] = frozenset()

    @property
    def all_tests(self) -> tuple[DbtTest, ...]:
        """Model-level and column-level tests."""
        return self.tests + tuple(t for c in self.columns for t in c.tests)

    def layout(self) -> Layout | None:
        """The configured partition spec and sort order; None when a value is set through
        Jinja (unknown without dbt) or invalid (VALIDATE reports it)."""
        if self.config_unknown & set(LAYOUT_KEYS):
            return None
        try:
            return layout_of({k: v for k, (v, _) in self.config_at.items() if k in LAYOUT_KEYS})
        except LayoutError:
            return None


@dataclass
class DbtSeed:
    """A CSV seed."""

    name: str
    path: str
    header: tuple[str, ...]
    description: str = ""
    columns: tuple[DbtColumn, ...] = ()
    column_types: dict[str, str] = field(default_factory=dict)


@dataclass
class DbtProject:
    """A dbt project read from disk."""

    root: Path
    name: str
    profile: str
    models: dict[str, DbtModel]
    seeds: dict[str, DbtSeed]
    files: list[Path]
    singular_tests: dict[str, tuple[str, ...]]
    snapshots: dict[str, str] = field(default_factory=dict)  # name → file
    package_nodes: frozenset[str] = frozenset()  # refable names of installed/local packages
    seed_dirs: tuple[str, ...] = ("seeds",)  # seed-paths of dbt_project.yml

    def model_location(self, name: str) -> Location:
        """The model's SQL file."""
        return Location(str(self.root / self.models[name].path), 1, 1)


def _paths(doc: YamlDocument, key: str, default: str) -> list[str]:
    value = doc.data.get(key, [default])
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _walk(root: Path, rel_dirs: list[str], suffixes: tuple[str, ...]) -> Iterator[Path]:
    for rel in rel_dirs:
        base = root / rel
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_file() and path.suffix in suffixes and not _skipped(path, root):
                yield path


def _skipped(path: Path, root: Path) -> bool:
    return any(part in _SKIP_DIRS or part.startswith(".") for part in path.relative_to(root).parts)


def read_project(root: Path) -> DbtProject:
    """Read ``root`` (a directory holding dbt_project.yml)."""
    project_file = root / "dbt_project.yml"
    if not project_file.is_file():
        raise InputError.single(
            E_DBT,
            "no dbt project here (dbt_project.yml not found)",
            Location(str(root)),
            hint="put the product's dbt project beside floe.yaml (dbt init creates one)",
        )
    doc = load_yaml(project_file, what="dbt project file")
    name = str(doc.data.get("name", "")).strip()
    if not name:
        raise InputError.single(
            E_DBT, "dbt_project.yml has no 'name'", doc.location(()), field_path="name"
        )
    profile = str(doc.data.get("profile", name))
    model_dirs = _paths(doc, "model-paths", "models")
    seed_dirs = _paths(doc, "seed-paths", "seeds")
    test_dirs = _paths(doc, "test-paths", "tests")
    other_dirs = [
        *_paths(doc, "macro-paths", "macros"),
        *_paths(doc, "snapshot-paths", "snapshots"),
        *_paths(doc, "analysis-paths", "analyses"),
    ]
    folder_config = (
        doc.data.get("models", {}).get(name, {}) if isinstance(doc.data.get("models"), dict) else {}
    )

    models = _read_models(
        root, model_dirs, folder_config if isinstance(folder_config, dict) else {}
    )
    seeds = _read_seeds(root, seed_dirs)
    seed_config = doc.data.get("seeds", {}) if isinstance(doc.data.get("seeds"), dict) else {}
    _seed_column_types(seeds, seed_config.get(name, {}))
    _apply_properties(root, [*model_dirs, *seed_dirs], models, seeds)
    _folder_layouts(doc, name, model_dirs, models)
    singular = _read_singular_tests(root, test_dirs)
    files = [project_file]
    for extra in ("packages.yml", "dependencies.yml", "selectors.yml"):
        if (root / extra).is_file():
            files.append(root / extra)
    files += list(_walk(root, [*model_dirs, *seed_dirs, *test_dirs, *other_dirs], _HASHED_SUFFIXES))
    for path in files:
        if path.suffix in _TEXT_SUFFIXES:
            read_text(path)  # dbt reads these as UTF-8: say which file is not, and where
    snapshot_dirs = _paths(doc, "snapshot-paths", "snapshots")
    return DbtProject(
        root, name, profile, models, seeds, sorted(set(files)), singular,
        snapshots=_read_snapshots(root, [*snapshot_dirs, *model_dirs]),
        package_nodes=_package_nodes(root), seed_dirs=tuple(seed_dirs),
    )  # fmt: skip


_SNAPSHOT_BLOCK = re.compile(r"\{%-?\s*snapshot\s+([A-Za-z_][A-Za-z0-9_]*)\s*-?%\}")


def _read_snapshots(root: Path, dirs: list[str]) -> dict[str, str]:
    """dbt snapshots: ``{% snapshot name %}`` blocks in SQL files and YAML ``snapshots:``
    entries that define one (``relation:``)."""
    import yaml

    out: dict[str, str] = {}
    for path in _walk(root, dirs, (".sql", ".yml", ".yaml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        rel = path.relative_to(root).as_posix()
        if path.suffix == ".sql":
            out.update({m.group(1): rel for m in _SNAPSHOT_BLOCK.finditer(text)})
            continue
        if "snapshots:" not in text:
            continue
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            continue  # the properties reader reports malformed YAML
        entries = data.get("snapshots") if isinstance(data, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and entry.get("name") and entry.get("relation"):
                out[str(entry["name"])] = rel
    return out


def _package_nodes(root: Path) -> frozenset[str]:
    """Model, seed and snapshot names of the packages under dbt_packages/ and of ``local:``
    packages (refs to them are not unknown)."""
    from floe.spec.dbt_packages import install_dir, read_packages

    roots = [(root / p.spec) for p in read_packages(root) if p.kind == "local"]
    installed = install_dir(root)
    if installed.is_dir():
        roots += [d for d in installed.iterdir() if d.is_dir()]
    names: set[str] = set()
    for pkg in roots:
        for path in _walk(pkg, ["models", "seeds", "snapshots"], (".sql", ".py", ".csv")):
            names.add(path.stem)
    return frozenset(names)


_HASHED_SUFFIXES = (".sql", ".yml", ".yaml", ".csv", ".py", ".md", ".jinja", ".json")
_TEXT_SUFFIXES = (".sql", ".yml", ".yaml", ".py", ".md", ".jinja")


def _folder_setting(folder_config: dict[str, Any], parts: tuple[str, ...], key: str) -> Any:
    """dbt's folder-level config (``+materialized`` in dbt_project.yml), most specific wins."""
    found = None
    node: Any = folder_config
    for depth in range(len(parts) + 1):
        if not isinstance(node, dict):
            break
        for candidate in (f"+{key}", key):
            if candidate in node and not isinstance(node[candidate], dict):
                found = node[candidate]
        if depth < len(parts):
            node = node.get(parts[depth])
    return found


#: config keys read with where they are set: the table layout, the custom schema (a
#: product writes only into its own namespace, whatever the schema says) and the alias (the
#: name of the model's table)
LOCATED_KEYS = ("partition_by", "sort_by", "schema", "alias")
LAYOUT_KEYS = ("partition_by", "sort_by")


def _folder_layouts(
    doc: YamlDocument, project: str, dirs: list[str], models: dict[str, DbtModel]
) -> None:
    """``+partition_by``/``+sort_by``/``+schema`` of dbt_project.yml's ``models:`` folders and
    models (dbt's fqn; the most specific wins) for models that set them nowhere else."""
    config = doc.data.get("models", {})
    node_root = config.get(project, {}) if isinstance(config, dict) else {}
    for model in models.values():
        base = next((d for d in dirs if model.path.startswith(f"{d.rstrip('/')}/")), None)
        if base is None:
            continue
        parts = (*Path(model.path).relative_to(base).parts[:-1], model.name)  # dbt's fqn
        for key in LOCATED_KEYS:
            if key in model.config_at or key in model.config_unknown:
                continue
            node: Any = node_root
            found: tuple[str | int, ...] | None = None
            for depth in range(len(parts) + 1):
                if not isinstance(node, dict):
                    break
                for spelled in (f"+{key}", key):
                    if spelled in node and not isinstance(node[spelled], dict):
                        found = ("models", project, *parts[:depth], spelled)
                if depth < len(parts):
                    node = node.get(parts[depth])
            if found is not None:
                value: Any = doc.data
                for part in found:
                    value = value[part]
                model.config_at[key] = (value, doc.location(found))


def _file_layout(path: Path, code: str, python: bool) -> tuple[
    dict[str, tuple[Any, Location]], frozenset[str]
]:  # fmt: skip
    """``partition_by``/``sort_by`` of a model's ``config(...)`` call, at their line."""
    block = (_PY_CONFIG if python else _CONFIG).search(code)
    found: dict[str, tuple[Any, Location]] = {}
    unknown: set[str] = set()
    if block is None:
        return found, frozenset()
    for key in LOCATED_KEYS:
        at = re.search(rf"\b{key}\s*=", block.group(1))
        if at is None:
            continue
        offset = block.start(1) + at.start()
        line = code.count("\n", 0, offset) + 1
        col = offset - (code.rfind("\n", 0, offset) + 1) + 1
        where = Location(str(path), line, col)
        value = _kwarg(block.group(1), key)
        if value is None:
            unknown.add(key)
            found[key] = (None, where)
        else:
            found[key] = (list(value) if isinstance(value, tuple) else value, where)
    return found, frozenset(unknown)


def _sql_config(sql: str, key: str) -> str | tuple[str, ...] | None:
    block = _CONFIG.search(sql)
    return _kwarg(block.group(1), key) if block else None


def _kwarg(body: str, key: str) -> str | tuple[str, ...] | None:
    """``key='x'`` or ``key=['a', 'b']`` in a config call's arguments."""
    as_list = re.search(_KWARG_LIST.format(key=key), body)
    if as_list:
        return tuple(re.findall(r"""['"]([^'"]+)['"]""", as_list.group(1)))
    as_str = re.search(_KWARG_STR.format(key=key), body)
    return as_str.group(1) if as_str else None


def read_text(path: Path) -> str:
    """A project file's text; a file that is not UTF-8 is E132 at the offending byte."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise InputError.single(
            E_ENCODING,
            f"the file is not UTF-8 (byte 0x{data[exc.start]:02x}); dbt reads every project "
            "file as UTF-8",
            Location(str(path), line, col),
            hint="re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
        ) from None


def _read_models(root: Path, dirs: list[str], folder_config: dict[str, Any]) -> dict[str, DbtModel]:
    models: dict[str, DbtModel] = {}
    for base in dirs:
        for path in _walk(root, [base], (".sql", ".py")):
            text = read_text(path)
            if path.suffix == ".py" and not _PY_MODEL.search(text):
                continue  # a helper module, not a dbt Python model
            model = _model(root, base, path, text, folder_config)
            if model.name in models:
                raise InputError.single(
                    E_DUPLICATE_MODEL,
                    f"two dbt models are named '{model.name}': {models[model.name].path} and "
                    f"{model.path}",
                    Location(str(path), 1, 1),
                    hint="dbt cannot tell them apart in ref(); rename one of the files",
                )
            models[model.name] = model
    return models


def _model(root: Path, base: str, path: Path, text: str, folder_config: dict[str, Any]) -> DbtModel:
    """One SQL or Python model with its config from the file or the folder."""
    python = path.suffix == ".py"
    code = text if python else _JINJA_COMMENT.sub("", text)
    parts = path.relative_to(root / base).parts[:-1]
    config = _py_config if python else _sql_config
    mat = config(code, "materialized") or _folder_setting(folder_config, parts, "materialized")
    key = config(code, "unique_key") or _folder_setting(folder_config, parts, "unique_key")
    change = config(code, "on_schema_change") or _folder_setting(
        folder_config, parts, "on_schema_change"
    )
    pattern = _PY_REF if python else _REF
    refs = tuple(sorted({m.group(2) or m.group(1) for m in pattern.finditer(code)}))
    layout, unknown = _file_layout(path, code, python)
    return DbtModel(
        name=path.stem,
        path=path.relative_to(root).as_posix(),
        sql=text,
        refs=refs,
        materialization=str(mat or ("table" if python else "view")),
        unique_key=_as_tuple(key),
        language="python" if python else "sql",
        on_schema_change=str(change or "ignore"),
        config_at=layout,
        config_unknown=unknown,
    )


def _py_config(code: str, key: str) -> str | tuple[str, ...] | None:
    """A keyword of ``dbt.config(...)`` in a Python model."""
    block = _PY_CONFIG.search(code)
    return _kwarg(block.group(1), key) if block else None


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return (str(value),)


def _read_seeds(root: Path, dirs: list[str]) -> dict[str, DbtSeed]:
    seeds: dict[str, DbtSeed] = {}
    for path in _walk(root, dirs, (".csv",)):
        with path.open(encoding="utf-8") as handle:
            first = handle.readline().strip()
        header = tuple(h.strip().strip('"') for h in first.split(",")) if first else ()
        if '"' in first:  # quoted header fields may hold commas
            import csv

            header = tuple(h.strip() for h in next(csv.reader([first]), []))
        seeds[path.stem] = DbtSeed(path.stem, path.relative_to(root).as_posix(), header)
    return seeds


def _seed_column_types(seeds: dict[str, DbtSeed], config: Any) -> None:
    """Seed settings of dbt_project.yml (most specific folder, or the seed, wins):
    ``+column_types``; ``+delimiter`` (the header is re-read with it); ``+enabled: false``
    removes the seed, as dbt does."""
    for name, seed in list(seeds.items()):
        parts = Path(seed.path).with_suffix("").parts[1:]
        node: Any = config
        found: dict[str, Any] = {}
        settings: dict[str, Any] = {}
        for depth in range(len(parts) + 1):
            if not isinstance(node, dict):
                break
            for key in ("+column_types", "column_types"):
                if isinstance(node.get(key), dict):
                    found = {**found, **node[key]}
            for key in ("delimiter", "enabled"):
                for spelled in (f"+{key}", key):
                    if spelled in node and not isinstance(node[spelled], dict):
                        settings[key] = node[spelled]
            if depth < len(parts):
                node = node.get(parts[depth])
        if settings.get("enabled") is False:
            del seeds[name]
            continue
        seed.column_types = {str(k): str(v) for k, v in found.items()}
        delimiter = str(settings.get("delimiter") or ",")
        if delimiter != ",":
            seed.header = _csv_header(seed.header, delimiter)


def _csv_header(first: tuple[str, ...], delimiter: str) -> tuple[str, ...]:
    """The header fields of a seed whose delimiter is not a comma."""
    import csv

    line = ",".join(first)
    return tuple(h.strip() for h in next(csv.reader([line], delimiter=delimiter), []))


def _tests(entries: Any, column: str | None) -> tuple[DbtTest, ...]:
    out: list[DbtTest] = []
    for entry in entries or []:
        if isinstance(entry, str):
            out.append(DbtTest(entry, column))
        elif isinstance(entry, dict) and entry:
            if "test_name" in entry:
                out.append(DbtTest(str(entry["test_name"]), column, dict(entry)))
            else:
                test_name, config = next(iter(entry.items()))
                out.append(
                    DbtTest(str(test_name), column, config if isinstance(config, dict) else {})
                )
    return tuple(out)


def _columns(entries: Any) -> tuple[DbtColumn, ...]:
    cols: list[DbtColumn] = []
    for col in entries or []:
        if not isinstance(col, dict) or "name" not in col:
            continue
        name = str(col["name"])
        tests = _tests(col.get("data_tests", col.get("tests")), name)
        dtype = col.get("data_type")
        description = str(col.get("description", ""))
        cols.append(DbtColumn(name, description, str(dtype) if dtype else None, tests, _meta(col)))
    return tuple(cols)


def _meta(entry: dict[str, Any]) -> dict[str, Any]:
    """dbt's ``meta`` of a model or column entry: the property, ``config.meta`` over it."""
    config = entry.get("config")
    nested = config.get("meta") if isinstance(config, dict) else None
    own = entry.get("meta")
    return {
        **(own if isinstance(own, dict) else {}),
        **(nested if isinstance(nested, dict) else {}),
    }


def _apply_properties(
    root: Path, dirs: list[str], models: dict[str, DbtModel], seeds: dict[str, DbtSeed]
) -> None:
    for path in _walk(root, dirs, (".yml", ".yaml")):
        doc = load_yaml(path, what="dbt properties file")
        for i, entry in enumerate(_listed(doc, ("models",))):
            if isinstance(entry, dict) and entry.get("name") in models:
                _check_shapes(doc, ("models", i), entry)
                _apply_model(
                    models[str(entry["name"])],
                    entry,
                    doc.location(("models", i)),
                    doc,
                    ("models", i),
                )
        for i, entry in enumerate(_listed(doc, ("seeds",))):
            if isinstance(entry, dict) and entry.get("name") in seeds:
                _check_shapes(doc, ("seeds", i), entry)
                seed = seeds[str(entry["name"])]
                seed.description = str(entry.get("description", ""))
                seed.columns = _columns(entry.get("columns"))
                config = entry.get("config")
                if isinstance(config, dict) and isinstance(config.get("column_types"), dict):
                    types = {str(k): str(v) for k, v in config["column_types"].items()}
                    seed.column_types = {**seed.column_types, **types}


def _listed(doc: YamlDocument, path: tuple[str | int, ...]) -> list[Any]:
    """The list at ``path`` of a properties file; anything else is E131 at its location."""
    value: Any = doc.data
    for part in path:
        if isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError.single(
            E_PROPERTIES,
            f"'{path[-1]}' must be a list (got {type(value).__name__})",
            doc.location(path),
            field_path=dotted(path),
            hint="see https://docs.getdbt.com/reference/model-properties for the layout",
        )
    return value


def _check_shapes(doc: YamlDocument, at: tuple[str | int, ...], entry: dict[str, Any]) -> None:
    """columns and tests of a model/seed entry (and tests of each column) are lists."""
    for key in ("columns", "data_tests", "tests"):
        _listed(doc, (*at, key))
    for j, col in enumerate(entry.get("columns") or []):
        if isinstance(col, dict):
            for key in ("data_tests", "tests"):
                _listed(doc, (*at, "columns", j, key))


def _apply_model(
    model: DbtModel, entry: dict[str, Any], location: Location, doc: YamlDocument,
    at: tuple[str | int, ...],
) -> None:  # fmt: skip
    model.description = str(entry.get("description", ""))
    model.columns = _columns(entry.get("columns"))
    model.tests = _tests(entry.get("data_tests", entry.get("tests")), None)
    model.meta = _meta(entry)
    model.properties_location = location
    config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
    assert isinstance(config, dict)
    if "materialized" in config:
        model.materialization = str(config["materialized"])
    if "unique_key" in config:
        model.unique_key = _as_tuple(config["unique_key"])
    contract = config.get("contract")
    model.contract_enforced = isinstance(contract, dict) and bool(contract.get("enforced"))
    for key in LOCATED_KEYS:  # config() in the model's file wins over its properties
        if key in config and key not in model.config_at:
            model.config_at[key] = (config[key], doc.location((*at, "config", key)))


def _read_singular_tests(root: Path, dirs: list[str]) -> dict[str, tuple[str, ...]]:
    """Singular test name → models it refs."""
    out: dict[str, tuple[str, ...]] = {}
    for path in _walk(root, dirs, (".sql",)):
        code = _JINJA_COMMENT.sub("", read_text(path))
        out[path.stem] = tuple(sorted({m.group(2) or m.group(1) for m in _REF.finditer(code)}))
    return out
