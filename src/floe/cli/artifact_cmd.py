"""``floe artifact …``: push, pull, list, show, sign and verify a product's OCI artifacts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from floe.cli.output import console
from floe.errors import display_path

artifact_app = typer.Typer(
    help="A product's OCI artifacts: push, pull, list, show, sign, verify (docs/promotion.md).",
    no_args_is_help=True,
)

Product = Annotated[str, typer.Argument(help="Product name (or its directory).")]
Manifest = Annotated[
    Path | None, typer.Option("--manifest", "-m", help="Platform manifest.yaml (default: the "
                              "nearest above the working directory, else $FLOE_MANIFEST).")
]  # fmt: skip
Registry = Annotated[
    str | None,
    typer.Option("--registry", help="[http://]host[:port]/path instead of artifacts.registry.url."),
]
Env = Annotated[str, typer.Option("--env", "-e", help="Environment (manifest overlay).")]
Version = Annotated[str | None, typer.Option("--version", help="A pushed version.")]
Digest = Annotated[str | None, typer.Option("--digest", help="An artifact digest (sha256:…).")]
EnvTag = Annotated[
    str | None, typer.Option("--env", "-e", help="The digest this environment runs.")
]


def _short(digest: str) -> str:
    return digest.removeprefix("sha256:")[:12]


@artifact_app.command("push")
def push_cmd(
    product_dir: Annotated[Path, typer.Argument(help="Directory of the product (floe.yaml).")],
    manifest: Manifest = None,
    env: Env = "dev",
    registry: Registry = None,
) -> None:
    """Compile the product for --env, pack its compiled artifacts, dbt project and platform
    lock into one content-addressed OCI artifact and push it: tagged with the product's
    version and env-<env>, with a record of who pushed it and when."""
    from floe.app.artifact import push

    done = push(product_dir, manifest, env, registry)
    out = console()
    out.print(f"pushed {done.product} {done.version} ({done.files} files)")
    out.print(f"  {done.repository}@{done.digest}")
    out.print(f"  tags: {', '.join(done.tags)}")


@artifact_app.command("list")
def list_cmd(product: Product, manifest: Manifest = None, registry: Registry = None) -> None:
    """Versions, digests, environment tags, who pushed each and when, signed or not."""
    from rich.table import Table

    from floe.app.artifact import list_artifacts

    infos = list_artifacts(product, manifest, registry)
    table = Table(title=f"artifacts of {product}", title_justify="left")
    for col in ("version", "digest", "environments", "pushed by", "pushed at", "signed"):
        table.add_column(col)
    for info in infos:
        table.add_row(", ".join(info.versions) or info.version, _short(info.digest),
                      ", ".join(info.env_tags), info.pushed_by, info.pushed_at,
                      "yes" if info.signed else "no")  # fmt: skip
    console().print(table)


@artifact_app.command("show")
def show_cmd(
    product: Product,
    manifest: Manifest = None,
    registry: Registry = None,
    version: Version = None,
    digest: Digest = None,
    env: EnvTag = None,
) -> None:
    """One artifact (by --digest, --version or --env; default env dev): its digest, tags,
    push record, signature and files."""
    from floe.app.artifact import reference, show

    info = show(product, reference(version, digest, env), manifest, registry)
    out = console()
    out.print(f"{info.product} {info.version}  {info.digest}")
    out.print(f"  versions: {', '.join(info.versions) or '-'}")
    out.print(f"  environments: {', '.join(info.env_tags) or '-'}")
    out.print(f"  pushed by {info.pushed_by or '?'} at {info.pushed_at or '?'} "
              f"(env {info.pushed_env or '?'})")  # fmt: skip
    out.print(f"  signed: {'yes' if info.signed else 'no'}")
    if info.bundle is not None:
        out.print(f"  bundle: {info.bundle.digest} ({info.bundle.size} bytes)")
    files = info.config.get("files", {})
    out.print(f"  files ({len(files)}):")
    for name in files:
        out.print(f"    {name}")


@artifact_app.command("pull")
def pull_cmd(
    product: Product,
    manifest: Manifest = None,
    registry: Registry = None,
    version: Version = None,
    digest: Digest = None,
    env: EnvTag = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder to unpack into.")] = None,
) -> None:
    """Download an artifact (by --digest, --version or --env; default env dev), check every
    blob against its digest and unpack the bundle."""
    from floe.app.artifact import pull, reference

    done = pull(product, reference(version, digest, env), out, manifest, registry)
    console().print(f"pulled {done.product}@{done.digest}: {len(done.files)} files into "
                    f"{display_path(done.out)}")  # fmt: skip


@artifact_app.command("sign")
def sign_cmd(
    product: Product,
    manifest: Manifest = None,
    registry: Registry = None,
    version: Version = None,
    digest: Digest = None,
    env: EnvTag = None,
) -> None:
    """Sign an artifact's digest: an in-toto statement in a DSSE envelope, Ed25519 key from
    artifacts.signing.key (a secret reference), attached as sha256-<hex>.sig."""
    from floe.app.artifact import reference, sign

    done = sign(product, reference(version, digest, env), manifest, env or "dev", registry)
    console().print(f"signed {done.product}@{done.digest} with key '{done.key_name}' "
                    f"({done.tag})")  # fmt: skip


@artifact_app.command("verify")
def verify_cmd(
    product: Product,
    manifest: Manifest = None,
    registry: Registry = None,
    version: Version = None,
    digest: Digest = None,
    env: EnvTag = None,
) -> None:
    """Verify an artifact's signature against the keys the manifest trusts."""
    from floe.app.artifact import reference, verify

    found, key = verify(product, reference(version, digest, env), manifest, env or "dev",
                        registry)  # fmt: skip
    console().print(f"verified {found}: signed by trusted key '{key}'")


@artifact_app.command("run")
def run_cmd(
    product: Product,
    env: Env = "dev",
    digest: Digest = None,
    manifest: Manifest = None,
) -> None:
    """Run exactly what env-<env> points at (or --digest) in that environment, without a
    local checkout: the bundle is pulled into the platform home and run; the run record names
    the digest (the evidence `floe promote` looks for)."""
    from floe.app.promote import run_artifact

    found, summary = run_artifact(product, env, digest, manifest)
    status = "succeeded" if summary.success else f"failed: {summary.failure}"
    console().print(f"run {summary.run_id} of {found} in {env} {status}")
    if not summary.success:
        raise typer.Exit(4)
