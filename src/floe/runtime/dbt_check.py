"""dbt's own view of a product before anything runs: ``dbt compile`` without data, ``dbt deps``
for local packages.

Compile is pure and cannot see everything dbt checks (undefined macros and vars, Jinja
errors, sources, duplicate resources of packages, the profile). ``check_dbt_parse`` lets dbt
parse and compile the project against an empty in-memory DuckDB in a temporary target
directory and turns its errors into floe diagnostics (exit 2). ``floe validate`` calls
:func:`check_product` after the pure stages; the run path calls :func:`check_dbt_parse`
(and :func:`ensure_deps` before it), which hands dbt's parse state of the check on to the run
path's ``dbt parse`` (one full parse of a changed project, not two).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from floe.compile.context import CompileContext, StageTiming
from floe.errors import InputError
from floe.plugins.builtin.compute_duckdb import SCRATCH_ENV
from floe.runtime.dbt_errors import parse_errors
from floe.runtime.dbt_exec import DbtProjectRef, invoke_dbt
from floe.runtime.product_lock import lock_if_free
from floe.runtime.scratch import discard
from floe.spec.dbt_packages import install_dir, package_problems, read_packages
from floe.spec.yamlload import load_yaml

#: dbt arguments of the check: no output, no partial-parse state, nothing written beside
#: the project.
_CHECK_ARGS = ["compile", "--quiet", "--no-partial-parse"]
#: On Spark the check is dbt's parse: compiling asks the adapter about relations, and a
#: dbt-spark session opened here would start a Spark without floe's Iceberg setup.
_SPARK_CHECK_ARGS = ["parse", "--quiet", "--no-partial-parse"]
#: dbt's parse state file (written even with --no-partial-parse, which only stops reading it)
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


@dataclass(frozen=True)
class ParseState:
    """The run path's wish: check against the product's (empty) scratch database path and
    keep dbt's parse state in ``keep_in`` (the target directory of its ``dbt parse``)."""

    keep_in: Path
    scratch: Path
    lock: Path  # the product lock that guards the scratch path


def check_dbt_parse(
    product_dir: Path,
    profiles_dir: Path,
    target: str,
    env: Mapping[str, str] | None = None,
    args: tuple[str, ...] = (),
    parse_state: ParseState | None = None,
) -> None:
    """Parse and compile the dbt project as dbt does (``args``: e.g. floe.yaml's ``--vars``);
    raise InputError on what dbt rejects.

    dbt compiles against an empty DuckDB: in memory, or (``parse_state`` given and the product
    lock free) at the product's scratch path, emptied before and after under the lock. The
    profile then equals the runs' one, so dbt's parse state of the check, copied to
    ``parse_state.keep_in``, spares the run path's ``dbt parse`` a second full parse."""
    ensure_deps(product_dir, profiles_dir, target, env)
    ref = DbtProjectRef(Path(product_dir), Path(profiles_dir), target)
    with tempfile.TemporaryDirectory(prefix="floe-dbt-check-") as tmp:
        check_target = Path(tmp) / "target"
        with _empty_scratch(parse_state) as database:
            scratch = (
                {**(env or {}), SCRATCH_ENV: str(database)}
                if database
                else {SCRATCH_ENV: ":memory:", **(env or {})}
            )
            check = _SPARK_CHECK_ARGS if _adapter(profiles_dir, target) == "spark" else _CHECK_ARGS
            result = invoke_dbt(ref, [*check, *args], check_target, scratch)
        error = parse_errors(result, Path(product_dir))
        if error is not None:
            raise error
        name = database.stem if database else "memory"  # DuckDB's name of the database
        _check_relations(check_target / "manifest.json", Path(product_dir), name)
        if database is not None and parse_state is not None:
            _keep_parse_state(check_target, parse_state.keep_in)


@contextmanager
def _empty_scratch(parse_state: ParseState | None) -> Iterator[Path | None]:
    """The scratch path, empty, while this process holds the product lock (None: no
    ``parse_state``, or a run holds the lock — the check then runs in memory, never waits)."""
    if parse_state is None:
        yield None
        return
    with lock_if_free(parse_state.lock, holder="dbt check") as held:
        if not held:
            yield None
            return
        discard(parse_state.scratch)
        try:
            yield parse_state.scratch
        finally:
            discard(parse_state.scratch)


def _keep_parse_state(check_target: Path, keep_in: Path) -> None:
    """dbt's partial_parse.msgpack of the check into ``keep_in`` (dbt itself decides whether
    it is still valid: dbt version, vars, profile, project files)."""
    state = check_target / PARTIAL_PARSE_FILE
    if state.is_file():
        keep_in.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(state, keep_in / PARTIAL_PARSE_FILE)


def _adapter(profiles_dir: Path, target: str) -> str:
    """The dbt adapter type of the compiled profile's target ('' when unreadable)."""
    try:
        profiles = yaml.safe_load((Path(profiles_dir) / "profiles.yml").read_text("utf-8"))
    except (OSError, yaml.YAMLError):
        return ""
    for profile in (profiles or {}).values():
        output = (profile or {}).get("outputs", {}).get(target) or {}
        return str(output.get("type", ""))
    return ""


def _check_relations(manifest_file: Path, product_dir: Path, database: str) -> None:
    """Two nodes on one Iceberg table are an input error already at validate (E230)."""
    import json

    from floe.runtime.dbt_graph import check_graph, load_graph

    if manifest_file.is_file():
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        check_graph(load_graph(manifest), str(product_dir), database)


def check_product(ctx: CompileContext) -> None:
    """After LOAD..ENFORCE: build the profile COMPILE would write (in memory), write it to a
    temporary directory and run :func:`check_dbt_parse`; timed as the step ``dbt check``."""
    from floe.compile.stages.build import CompileStage

    start = time.perf_counter()
    CompileStage().run(ctx)  # pure: fills ctx.profiles and ctx.artifacts, writes nothing
    assert ctx.profiles is not None
    with tempfile.TemporaryDirectory(prefix="floe-profiles-") as tmp:
        (Path(tmp) / "profiles.yml").write_text(yaml.safe_dump(ctx.profiles, sort_keys=True))
        try:
            check_dbt_parse(ctx.options.product_dir, Path(tmp), ctx.options.env)
        finally:
            ctx.timings.append(StageTiming("dbt check", time.perf_counter() - start))


def ensure_deps(
    product_dir: Path, profiles_dir: Path, target: str, env: Mapping[str, str] | None = None
) -> bool:
    """Run ``dbt deps`` when packages.yml lists only ``local:`` packages and one of them is not
    installed (or installed from another path); True when it ran. A package that needs a
    download and is not installed is an InputError (E134): there is no network here."""
    root = Path(product_dir)
    problems = package_problems(root)
    if problems:
        raise InputError(problems)
    packages = read_packages(root)
    local = [p for p in packages if p.kind == "local"]
    if not local or all(_local_current(root, p.spec) for p in local):
        return False
    ref = DbtProjectRef(root, Path(profiles_dir), target)
    with tempfile.TemporaryDirectory(prefix="floe-dbt-deps-") as tmp:
        result = invoke_dbt(ref, ["deps", "--quiet"], Path(tmp) / "target", dict(env or {}))
    error = parse_errors(result, root)
    if error is not None:
        raise error
    return True


def _local_current(root: Path, spec: str) -> bool:
    """The local package is installed under its project name and links to its source."""
    source = (root / spec).resolve()
    project = source / "dbt_project.yml"
    if not project.is_file():
        return False  # let dbt deps say what is wrong
    name = str(load_yaml(project, what="dbt project file").data.get("name", "")).strip()
    installed = install_dir(root) / name
    if not name or not installed.exists():
        return False
    return installed.resolve() == source or (
        not installed.is_symlink() and _newest(installed) >= _newest(source)
    )


def _newest(folder: Path) -> float:
    """The newest modification time of the files below ``folder`` (0 when empty)."""
    return max((p.stat().st_mtime for p in folder.rglob("*") if p.is_file()), default=0.0)
