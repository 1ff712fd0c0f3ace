"""The ``floe`` command line."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Annotated

import typer

from floe.cli.adapters.pydantic_plugins import disable_plugins
from floe.cli.argv import without_debug
from floe.cli.artifact_cmd import artifact_app
from floe.cli.promote_cmd import approve_cmd, audit_app, promote_cmd, reject_cmd, rollback_cmd
from floe.errors import ExitCode, FloeError

app = typer.Typer(
    name="floe",
    help="floe — an open data platform: compile data products, run them, observe them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)
schema_app = typer.Typer(help="JSON Schemas of floe's file formats.", no_args_is_help=True)
plugins_app = typer.Typer(help="Installed plugins.", no_args_is_help=True)
platform_app = typer.Typer(
    help="The platform home: catalog, warehouse, Dagster instance.", no_args_is_help=True
)
tables_app = typer.Typer(
    help="Iceberg tables through the catalog: read, time travel, rollback, maintenance.",
    no_args_is_help=True,
)
app.add_typer(schema_app, name="schema")
app.add_typer(plugins_app, name="plugins")
app.add_typer(platform_app, name="platform")
app.add_typer(tables_app, name="tables")
seeds_app = typer.Typer(help="Demo seed data at any scale.", no_args_is_help=True)
app.add_typer(seeds_app, name="seeds")
k8s_app = typer.Typer(help="Kubernetes manifests for a data product.", no_args_is_help=True)
app.add_typer(k8s_app, name="k8s")
semantic_app = typer.Typer(
    help="The semantic layer's data model of the gold models.", no_args_is_help=True
)
app.add_typer(semantic_app, name="semantic")

traces_app = typer.Typer(help="Traces of runs (embedded 'file' exporter).", no_args_is_help=True)
lineage_app = typer.Typer(help="OpenLineage of products (embedded 'file' transport).",
                          no_args_is_help=True)  # fmt: skip
metrics_app = typer.Typer(help="Prometheus metrics of runs.", no_args_is_help=True)
app.add_typer(traces_app, name="traces")
app.add_typer(lineage_app, name="lineage")
app.add_typer(metrics_app, name="metrics")
app.add_typer(artifact_app, name="artifact")
app.add_typer(audit_app, name="audit")
app.command("promote")(promote_cmd)
app.command("approve")(approve_cmd)
app.command("reject")(reject_cmd)
app.command("rollback")(rollback_cmd)

_STATE = {"debug": False}

ProductDir = Annotated[
    Path, typer.Argument(help="Directory of the data product (holding floe.yaml).")
]
ProductDirs = Annotated[
    list[Path], typer.Argument(help="Product directories (each holding floe.yaml).")
]
RunTargets = Annotated[
    list[Path],
    typer.Argument(
        help="Product directories (each holding floe.yaml), or product names: a name that is "
        "no folder runs the digest env-<env> points at in the registry, without a checkout."
    ),
]
ManifestOpt = Annotated[
    Path | None,
    typer.Option(
        "--manifest",
        "-m",
        help="Platform manifest.yaml (default: platform.manifest "
        "in floe.yaml, else the nearest manifest.yaml above the product).",
    ),
]
EnvOpt = Annotated[
    str, typer.Option("--env", "-e", help="Environment overlay of the manifest (dev|staging|prod).")
]


def _version(value: bool) -> None:
    if value:
        from floe import __version__

        print(f"floe {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
) -> None:
    _STATE["debug"] = _STATE["debug"] or debug


AllowBreakingOpt = Annotated[
    bool,
    typer.Option("--allow-breaking", help="Accept breaking schema changes (needs --reason)."),
]
ReasonOpt = Annotated[
    str | None,
    typer.Option("--reason", help="Why breaking changes are accepted (recorded and logged)."),
]
OfflineOpt = Annotated[
    bool,
    typer.Option(
        "--offline", help="Do not read the live schemas (skips the breaking-change gate)."
    ),
]


@app.command("compile")
def compile_cmd(
    product_dir: ProductDir,
    manifest: ManifestOpt = None,
    env: EnvOpt = "dev",
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output directory (default: <product>/target/floe)."),
    ] = None,
    report: Annotated[
        tuple[str, Path] | None,
        typer.Option(
            "--report",
            metavar="FORMAT FILE",
            help="Also write the enforcement report: json|sarif|html, then the file path.",
        ),
    ] = None,
    allow_breaking: AllowBreakingOpt = False,
    reason: ReasonOpt = None,
    offline: OfflineOpt = False,
) -> None:
    """Compile a data product into compiled_artifacts.json and profiles.yml.

    When the product's tables exist in the catalog, their live schemas are compared with what
    the SQL now produces: dropped/renamed columns and narrowing type changes fail (exit 3).

    Exit status: 0 ok, 2 invalid input, 3 policy violation or breaking change, 1 internal error.
    """
    from floe.cli.compile_cmd import GateOptions, run_compile

    gate = GateOptions(allow_breaking, reason, offline)
    run_compile(product_dir, manifest, env, out, write=True, report=report, gate=gate)


@app.command("validate")
def validate_cmd(
    product_dir: ProductDir,
    manifest: ManifestOpt = None,
    env: EnvOpt = "dev",
    offline: OfflineOpt = False,
) -> None:
    """Check a data product without writing anything: LOAD, VALIDATE, RESOLVE, ENFORCE, then
    dbt's own parse and compile of the project (no data; exit 2 on what dbt rejects)."""
    from floe.cli.compile_cmd import GateOptions, run_compile

    run_compile(product_dir, manifest, env, None, write=False, gate=GateOptions(offline=offline))


@schema_app.command("export")
def schema_export(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory.")] = Path("schemas"),
) -> None:
    """Write JSON Schema (draft 2020-12) for floe.yaml, manifest.yaml and CompiledArtifacts."""
    from floe.app.schemas import export
    from floe.errors import display_path

    for path in export(out):
        print(f"wrote {display_path(path)}")


@plugins_app.command("list")
def plugins_list(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List installed plugins per category (entry points floe.<category>)."""
    from floe.cli.plugins_cmd import list_plugins

    list_plugins(as_json)


@app.command("run")
def run_cmd(
    product_dirs: RunTargets,
    manifest: ManifestOpt = None,
    env: EnvOpt = "dev",
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select",
            "-s",
            help="dbt selection syntax: names, tag:x, +model, model+, path:models/x "
            "(repeatable; as dbt build --select).",
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="dbt selection syntax of nodes to leave out."),
    ] = None,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Rebuild incremental models from scratch.")
    ] = False,
    from_failure: Annotated[
        bool,
        typer.Option(
            "--from-failure",
            help="Re-execute only what the last failed run did not publish "
            "(upstream results that succeeded are reused from Iceberg).",
        ),
    ] = False,
    allow_breaking: AllowBreakingOpt = False,
    reason: ReasonOpt = None,
) -> None:
    """Compile and run data products: one dbt build on DuckDB, audited, published to Iceberg.

    The compile checks the SQL against the live tables (breaking-change gate) and dbt's own
    parser and compiler check the project first. Shows dbt's node lines, then each published
    table. Each environment (--env) has its own catalog, warehouse and Dagster instance;
    `floe run tiny --env staging` pulls what staging points at and runs it there.

    Exit status: 0 ok, 2 invalid input, 3 policy violation or breaking change, 4 the run failed.
    """
    from floe.cli.compile_cmd import GateOptions, check_options
    from floe.cli.run_cmd import run_products

    if from_failure and (select or exclude):
        raise typer.BadParameter("--from-failure chooses the assets itself; drop --select")
    check_options(None, GateOptions(allow_breaking, reason))
    summaries = run_products(
        product_dirs, manifest, env, select, full_refresh, from_failure, reason, exclude
    )
    if not all(s.success for s in summaries):
        raise typer.Exit(int(ExitCode.RUN_FAILED))


@app.command("retention")
def retention_cmd(
    product_dirs: ProductDirs,
    manifest: ManifestOpt = None,
    env: EnvOpt = "dev",
) -> None:
    """Run the products' retention jobs now: delete rows older than the manifest's retention
    window (by floe.yaml retention.column) and expire snapshots beyond snapshot_keep_last.

    Exit status: 0 ok, 2 invalid input, 4 the job failed.
    """
    from floe.cli.run_cmd import retention_products

    if not retention_products(product_dirs, manifest, env):
        raise typer.Exit(int(ExitCode.RUN_FAILED))


ManifestRequired = Annotated[
    Path | None,
    typer.Option(
        "--manifest",
        "-m",
        help="Platform manifest.yaml (default: the nearest "
        "manifest.yaml in this directory or above, or $FLOE_MANIFEST).",
    ),
]


@platform_app.command("up")
def platform_up(manifest: ManifestRequired = None, env: EnvOpt = "dev") -> None:
    """Create the platform home and health-check catalog, warehouse and plugins."""
    from floe.cli.platform_cmd import show_checks

    raise typer.Exit(show_checks(manifest, env, create=True))


@platform_app.command("status")
def platform_status(manifest: ManifestRequired = None, env: EnvOpt = "dev") -> None:
    """Health-check the platform home without changing it."""
    from floe.cli.platform_cmd import show_checks

    raise typer.Exit(show_checks(manifest, env, create=False))


rbac_app = typer.Typer(
    help="Catalog access (FR-062): the manifest's access: rules as the catalog's roles and "
    "grants, through the rbac plugin.",
    no_args_is_help=True,
)
platform_app.add_typer(rbac_app, name="rbac")


@rbac_app.command("diff")
def rbac_diff(manifest: ManifestRequired = None, env: EnvOpt = "dev") -> None:
    """Compare the manifest's access rules with the catalog's roles and grants: '+' missing
    from the catalog, '-' drift (in the catalog, not in the manifest). Exit 3 on any
    difference, 0 when in sync."""
    from floe.cli.access_cmd import show_access

    raise typer.Exit(show_access(manifest, env, apply=False))


@rbac_app.command("apply")
def rbac_apply(manifest: ManifestRequired = None, env: EnvOpt = "dev") -> None:
    """Create the missing roles, grants and assignments and remove the drift on the roles
    floe manages; a second apply changes nothing."""
    from floe.cli.access_cmd import show_access

    raise typer.Exit(show_access(manifest, env, apply=True))


@tables_app.command("list")
def tables_list(
    manifest: ManifestRequired = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    env: EnvOpt = "dev",
) -> None:
    """Every table of the environment's catalog: identifier, rows, current snapshot, snapshot
    count."""
    from floe.cli.tables_cmd import list_cmd

    list_cmd(manifest, as_json, env)


AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Read the table as of a snapshot id, a tag or branch (run-<run id>), or an ISO "
        "timestamp (the snapshot current then; no zone = UTC).",
    ),
]


@tables_app.command("show")
def tables_show(
    identifier: Annotated[str, typer.Argument(help="namespace.table")],
    manifest: ManifestRequired = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Sample rows.")] = 10,
    as_of: AsOfOpt = None,
    env: EnvOpt = "dev",
) -> None:
    """Schema, partition spec and sort order, data files per partition, snapshots (with their
    tags), rollbacks and a sample of one table (in the environment's catalog)."""
    from floe.cli.tables_cmd import show_cmd

    show_cmd(manifest, identifier, limit, schema=True, as_of=as_of, env=env)


@tables_app.command("head")
def tables_head(
    identifier: Annotated[str, typer.Argument(help="namespace.table")],
    manifest: ManifestRequired = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Rows.")] = 10,
    as_of: AsOfOpt = None,
    env: EnvOpt = "dev",
) -> None:
    """The first rows of one table (in the environment's catalog)."""
    from floe.cli.tables_cmd import show_cmd

    show_cmd(manifest, identifier, limit, schema=False, as_of=as_of, env=env)


@tables_app.command("rollback")
def tables_rollback(
    target: Annotated[str, typer.Argument(help="namespace.table, or a product directory")],
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="Snapshot id, tag (run-<run id>) or ISO timestamp; a product: run tag or "
            "timestamp.",
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded with the OS user).")],
    manifest: ManifestRequired = None,
    env: EnvOpt = "dev",
) -> None:
    """Make an earlier snapshot current again (no data written), recorded in the table
    property floe.rollback.<time> with who and why; the next run builds on it. A product
    directory finds its manifest as `floe run` does (floe.yaml platform.manifest) unless -m.

    Exit status: 0 ok, 2 unknown snapshot/tag/timestamp or a table lacks the run tag.
    """
    from floe.cli.tables_cmd import rollback_cmd

    rollback_cmd(manifest, target, to, reason, env)


@tables_app.command("maintain")
def tables_maintain(
    targets: Annotated[
        list[str] | None,
        typer.Argument(help="namespace.table or product directories (default: every table)."),
    ] = None,
    manifest: ManifestRequired = None,
    env: EnvOpt = "dev",
    target_size: Annotated[
        str | None,
        typer.Option(
            "--target-size",
            help="Compaction target per data file, e.g. 128MiB (default: floe.yaml "
            "maintenance.target_file_size, else 128MiB); files under 3/4 of it are small.",
        ),
    ] = None,
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            help="Delete unreferenced files only when older than this, e.g. 3d, 12h "
            "(default: floe.yaml maintenance.orphan_older_than, else 3d).",
        ),
    ] = None,
    wait: Annotated[
        float,
        typer.Option("--wait", help="Seconds to wait for a run of the product to finish."),
    ] = 300.0,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Compact small data files (one snapshot per table, rows unchanged), expire snapshots
    beyond the manifest's snapshot_keep_last and delete orphan files older than --older-than;
    prints files and bytes before and after per table. A product directory uses its floe.yaml
    maintenance settings and finds its manifest as `floe run` does.

    Exit status: 0 ok, 2 bad option or unknown table, a run of the product kept its lock
    (E576) or another writer committed meanwhile (E577).
    """
    from floe.cli.tables_cmd import maintain_cmd

    maintain_cmd(manifest, targets or [], env, target_size, older_than, wait, as_json)


@app.command("workspace")
def workspace_cmd(
    targets: Annotated[
        list[Path],
        typer.Argument(
            help="Directory holding the data products, or product names to serve from the "
            "registry (what env-<env> points at)."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output file (default: <dir>/workspace.yaml; for product names "
            "<env home>/workspace.yaml).",
        ),
    ] = None,
    env: EnvOpt = "dev",
    manifest: ManifestOpt = None,
) -> None:
    """Compile every product below a directory and write a Dagster workspace.yaml
    (one code location per product, loaded from its generated definitions.py).

    With product names instead (`floe workspace tiny --env staging`): one code location
    `<env>-<product>` per product that serves the digest env-<env> points at in the registry
    — pulled, compiled for the environment, on the environment's own catalog, warehouse and
    Dagster instance; reloading the location after a promotion serves the new digest."""
    from floe.app.promote import is_product_name
    from floe.app.workspace import write_env_workspace, write_workspace
    from floe.cli.output import console
    from floe.errors import display_path

    names = [str(t) for t in targets if is_product_name(str(t))]
    if names and len(names) != len(targets):
        raise typer.BadParameter("give one directory, or product names only")
    if not names and len(targets) != 1:
        raise typer.BadParameter("give one directory holding the data products")
    if names:
        written = write_env_workspace(names, env, manifest, out)
    else:
        written = write_workspace(targets[0], out, env)
    console().print(f"wrote {display_path(written.path)} with {written.locations} code locations")


@app.command("demo")
def demo_cmd(
    root: Annotated[
        Path, typer.Argument(help="Directory holding manifest.yaml and the products.")
    ] = Path("demo"),
    scale: Annotated[
        str | None,
        typer.Option("--scale", help="Regenerate demo seeds first: small|medium|large|<rows>."),
    ] = None,
    products: Annotated[
        str | None,
        typer.Option("--products", "-p", help="Comma-separated product names (default: all)."),
    ] = None,
    ui: Annotated[
        bool,
        typer.Option("--ui", help="Serve Dagster (webserver + daemon) and let the sensors run."),
    ] = False,
    host: Annotated[str, typer.Option("--host", help="UI address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="UI port.")] = 3000,
    metrics_port: Annotated[
        int, typer.Option("--metrics-port", help="Port of /metrics (Prometheus) with --ui.")
    ] = 9464,
    env: EnvOpt = "dev",
) -> None:
    """The whole platform in one command: platform up, (seeds,) compile every product, write
    workspace.yaml, run the products in parallel and print one summary table.

    With --ui, Dagster's webserver and daemon serve the workspace on HOST:PORT, each product's
    health sensor starts its first run, schedules keep running, Prometheus metrics of the runs
    are on HOST:METRICS-PORT/metrics; Ctrl-C stops everything.
    Exit status: 0 ok, 2 invalid input, 4 a product's run failed.
    """
    from floe.cli.demo_cmd import DemoOptions, demo

    if scale is None:
        import os

        scale = os.environ.get("FLOE_DEMO_SEED_SCALE") or None
    names = [n.strip() for n in products.split(",") if n.strip()] if products else None
    opts = DemoOptions(root, scale, names, ui, host, port, env, metrics_port)
    if not demo(opts):
        raise typer.Exit(int(ExitCode.RUN_FAILED))


@seeds_app.command("generate")
def seeds_generate(
    product_dir: ProductDir,
    scale: Annotated[
        str | None,
        typer.Option(
            "--scale", help="small|medium|large|<rows> (default: $FLOE_DEMO_SEED_SCALE or small)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 42,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Directory (default: <product>/seeds).")
    ] = None,
) -> None:
    """Write a demo product's raw seed CSVs, deterministic for a scale and seed."""
    from floe.cli.seeds_cmd import generate_seeds

    generate_seeds(product_dir, scale, seed, out)


@semantic_app.command("validate")
def semantic_validate(product_dir: ProductDir, manifest: ManifestOpt = None,
                      env: EnvOpt = "dev") -> None:  # fmt: skip
    """Compile the product and load the data model of its gold models with the semantic
    layer's own loader (Cube's schema compiler for 'cube'); its errors name the model.

    Exit status: 0 loaded, 2 invalid input or refused by the semantic layer."""
    from floe.cli.semantic_cmd import validate

    validate(product_dir, manifest, env)


@k8s_app.command("generate")
def k8s_generate(
    product_dir: ProductDir,
    env: EnvOpt = "dev",
    manifest: ManifestOpt = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output directory (default: <product>/target/k8s)."),
    ] = None,
    namespace: Annotated[
        str | None, typer.Option(help="Namespace (default: floe-<product>-<env>).")
    ] = None,
    image: Annotated[
        str | None, typer.Option(help="Container image (default: floe-<product>:<version>).")
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(help="resource_presets entry (default: 'default', else 'small')."),
    ] = None,
    cluster_domain: Annotated[str, typer.Option(help="Cluster DNS domain.")] = "cluster.local",
) -> None:
    """Write <product>-<env>.yaml: Namespace (Pod Security restricted), ServiceAccount,
    Role/RoleBinding, ConfigMap of the compiled artifacts, NetworkPolicies (default deny;
    egress only to the manifest's catalog, storage, collector, lineage backend and DNS),
    Job and CronJob running `floe run`. Secrets by name only, never values."""
    from floe.app.k8s import K8sOptions
    from floe.cli.k8s_cmd import generate_cmd

    generate_cmd(K8sOptions(product_dir, env, manifest, out, namespace, image, preset,
                            cluster_domain))  # fmt: skip


@traces_app.command("show")
def traces_show(
    manifest: ManifestRequired = None,
    run: Annotated[
        str | None,
        typer.Option("--run", help="Run id (or its prefix); default: latest per product."),
    ] = None,
) -> None:
    """Span tree of runs with durations, from the platform home."""
    from floe.cli.observe_cmd import traces_show as show

    raise typer.Exit(show(manifest, run))


@lineage_app.command("show")
def lineage_show(
    product: Annotated[str, typer.Argument(help="Product name (its lineage namespace).")],
    manifest: ManifestRequired = None,
) -> None:
    """Datasets and jobs of a product as a tree, from the platform home."""
    from floe.cli.observe_cmd import lineage_show as show

    raise typer.Exit(show(manifest, product))


@metrics_app.command("serve")
def metrics_serve(
    manifest: ManifestRequired = None,
    port: Annotated[int, typer.Option("--port", "-p", help="Port of /metrics.")] = 9464,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
) -> None:
    """Serve /metrics (Prometheus) computed from the platform home's run records."""
    from floe.cli.observe_cmd import metrics_serve as serve

    serve(manifest, port, host)


def for_command(args: list[str]) -> typer.Typer:
    """The app with only the command ``args`` start with, else the whole app.

    Typer builds the parameters of every command before it parses one; a command line that
    names its command needs only that one (the same help, options and errors), which keeps
    start-up short. Help, leading options and unknown names go to the whole app (click's
    "did you mean" needs every name).
    """
    name = args[0] if args else "-"
    commands = [c for c in app.registered_commands if c.name == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if name.startswith("-") or len(commands) + len(groups) != 1:
        return app
    one = copy.copy(app)
    one.registered_commands, one.registered_groups = commands, groups
    return one


def main() -> None:
    """Console-script entry point: user errors print cleanly, never as a traceback."""
    args, _STATE["debug"] = without_debug(sys.argv[1:])
    disable_plugins()  # floe uses none (python -m floe.cli.main comes here, not via entry)
    try:
        for_command(args)(args=args)
    except FloeError as exc:
        from floe.cli.output import print_diagnostics

        print_diagnostics(exc.diagnostics)
        if _STATE["debug"]:
            raise
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except Exception as exc:
        if _STATE["debug"]:
            raise
        from floe.errors import public_text

        sys.stderr.write(
            f"internal error: {public_text(f'{type(exc).__name__}: {exc}')}\n"
            "  hint: this is a bug in floe; rerun with --debug and report the traceback\n"
        )
        sys.exit(int(ExitCode.INTERNAL))


if __name__ == "__main__":
    main()
