"""``floe promote``, ``floe approve``, ``floe reject``, ``floe audit verify``: promotion through
the environments, with gates that fail closed and an audit trail (docs/promotion.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from floe.cli.output import console
from floe.errors import ExitCode

audit_app = typer.Typer(help="The audit trail of pushes and promotions.", no_args_is_help=True)

Manifest = Annotated[
    Path | None, typer.Option("--manifest", "-m", help="Platform manifest.yaml (default: the "
                              "nearest above the working directory, else $FLOE_MANIFEST).")
]  # fmt: skip
HISTORY = "history"


def promote_cmd(
    product: Annotated[
        str, typer.Argument(help="Product name (or its directory); 'history' prints the trail.")
    ],
    source: Annotated[
        str | None, typer.Option("--from", help="Environment the digest comes from.")
    ] = None,
    target: Annotated[str | None, typer.Option("--to", help="Environment to promote to.")] = None,
    digest: Annotated[
        str | None, typer.Option("--digest", help="Digest to promote (default: --from's).")
    ] = None,
    env: Annotated[
        str | None, typer.Option("--env", "-e", help="history: only this environment.")
    ] = None,
    manifest: Manifest = None,
) -> None:
    """Promote a digest from one environment to the next: the gates run in order (policy at
    the target's level, security scan, signature, a green run in the source environment) and
    are recorded; every gate passed moves env-<to> to the digest — or, for an environment that
    needs approval, exits 6 with a request id for `floe approve`/`floe reject`. A gate that
    fails or errors blocks (exit 5). `floe promote history [--env E]` prints the audit trail."""
    if product == HISTORY:
        _history(manifest, env)
        return
    if not source or not target:
        raise typer.BadParameter("--from and --to are required", param_hint="--from/--to")
    from floe.app.promote import promote

    out = promote(product, source, target, digest, manifest)
    _print_outcome(out)
    if out.status == "blocked":
        gate = out.blocking
        name, why = (gate.gate, gate.reason) if gate else ("?", "")
        sys.stderr.write(f"promotion blocked by gate '{name}': {why}\n")
        raise typer.Exit(int(ExitCode.PROMOTION_BLOCKED))
    if out.status == "pending":
        console().print(f"waiting for approval: request {out.request_id} "
                        f"(floe approve {out.request_id} | floe reject {out.request_id} "
                        "--reason …)")  # fmt: skip
        raise typer.Exit(int(ExitCode.APPROVAL_PENDING))


def approve_cmd(
    request_id: Annotated[str, typer.Argument(help="The id `floe promote` printed.")],
    env: Annotated[str, typer.Option("--env", "-e", help="The request's target env.")] = "prod",
    manifest: Manifest = None,
) -> None:
    """Approve a waiting promotion (an approver of artifacts.promotion.approvers): the
    target environment's tag moves to the digest; recorded in the audit trail."""
    from floe.app.promote import approve

    _print_outcome(approve(request_id, manifest, env))


def reject_cmd(
    request_id: Annotated[str, typer.Argument(help="The id `floe promote` printed.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")],
    env: Annotated[str, typer.Option("--env", "-e", help="The request's target env.")] = "prod",
    manifest: Manifest = None,
) -> None:
    """Reject a waiting promotion: nothing moves; recorded with the reason."""
    from floe.app.promote import reject

    _print_outcome(reject(request_id, reason, manifest, env))


@audit_app.command("verify")
def audit_verify(manifest: Manifest = None) -> None:
    """Recompute the audit trail's hash chain and check its newest record against the head's
    anchors (the append snapshot's summary, <home>/promotions/audit.head, floe.audit:head in
    the registry): an edited, deleted or reordered record fails — the newest too."""
    from floe.app.promote import verify_audit

    check = verify_audit(manifest)
    if check.problems:
        for problem in check.problems:
            sys.stderr.write(f"audit trail broken: {problem}\n")
        raise typer.Exit(int(ExitCode.POLICY_VIOLATION))
    console().print(f"audit trail intact: {check.records} records, hash chain and head "
                    "anchors verified")  # fmt: skip


def _history(manifest: Path | None, env: str | None) -> None:
    from rich.table import Table

    from floe.app.promote import history

    table = Table(title="promotion history", title_justify="left")
    for col in ("#", "at", "who", "action", "product", "digest", "from", "to", "reason"):
        table.add_column(col)
    for r in history(manifest, env):
        table.add_row(str(r.seq), r.at[:19], r.who, r.action, r.product,
                      r.digest.removeprefix("sha256:")[:12], r.from_env, r.to_env,
                      r.reason[:80])  # fmt: skip
    console().print(table)


def _print_outcome(out: Any) -> None:
    from rich.table import Table

    short = out.digest.removeprefix("sha256:")[:12]
    table = Table(title=f"{out.product}@{short} {out.source} → {out.target}: {out.status}",
                  title_justify="left")  # fmt: skip
    for col in ("gate", "outcome", "reason"):
        table.add_column(col)
    for g in out.gates:
        table.add_row(g.gate, g.outcome, g.reason)
    console().print(table)


def rollback_cmd(
    product: Annotated[str, typer.Argument(help="Product name (or its directory).")],
    env: Annotated[str, typer.Option("--env", "-e", help="Environment to roll back.")],
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help="A digest the environment ran (default: the one before the current)."
        ),
    ] = None,
    data: Annotated[
        bool,
        typer.Option(
            "--data",
            help="Also roll the product's Iceberg tables of that environment back to "
            "what the digest rolled back to left there (the snapshots current when the "
            "digest after it was promoted).",
        ),
    ] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")] = "",
    manifest: Manifest = None,
) -> None:
    """Point env-<env> back at the digest it ran before (or --to), recorded in the audit
    trail; --data rolls the tables back too."""
    from floe.app.promote import rollback

    done = rollback(product, env, to, data=data, reason=reason, manifest=manifest)
    out = done.outcome
    console().print(f"{out.product}: {env} now runs {out.digest} (was {out.source})")
    for table in done.tables:
        console().print(f"  rolled back {table}")
