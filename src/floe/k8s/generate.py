"""``floe k8s generate``: compile the product, then build and write its Kubernetes manifests."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from floe.compile.api import compile_product
from floe.compile.stages.generate import ARTIFACTS_FILE, PROFILES_FILE
from floe.errors import FloeError
from floe.k8s import rbac, workload, writer
from floe.k8s.endpoints import destinations
from floe.k8s.names import Names
from floe.k8s.network import network_policies
from floe.plugins.abcs import NetworkSecurityPlugin
from floe.plugins.records import Destination
from floe.runtime.resolved import ResolvedPlugins
from floe.spec.artifacts import CompiledArtifacts
from floe.spec.manifest import Manifest, ResourcePreset

E_PRESET = "E602"
E_TOO_BIG = "E603"
#: A ConfigMap holds at most 1 MiB; leave room for its metadata.
CONFIGMAP_LIMIT = 1_000_000
DEFAULT_PRESETS = ("default", "small")


@dataclass(frozen=True)
class K8sOptions:
    """What the user asked for."""

    product_dir: Path
    env: str = "dev"
    manifest: Path | None = None
    out_dir: Path | None = None
    namespace: str | None = None
    image: str | None = None
    preset: str | None = None
    cluster_domain: str = "cluster.local"

    @property
    def output_dir(self) -> Path:
        """Default ``<product>/target/k8s``."""
        return self.out_dir or self.product_dir / "target" / "k8s"


@dataclass(frozen=True)
class Generated:
    """The result: where the file is, what it holds, which destinations the product needs,
    and the network_security plugin that isolated it (``none``: no policies)."""

    path: Path
    docs: list[dict[str, Any]]
    destinations: list[Destination]
    names: Names
    network_security: str = "k8s"


def generate(options: K8sOptions) -> Generated:
    """Compile (pure, no network), build every resource, write one multi-document YAML."""
    artifacts, manifest, files = _compile(options)
    meta = artifacts.metadata
    names = Names.of(meta.product, meta.version, options.env, options.namespace)
    dests = destinations(artifacts)
    run = _run_spec(options, names, artifacts, manifest)
    network = ResolvedPlugins(artifacts.plugins).network_security
    docs = build(names, artifacts, files, dests, run, options.cluster_domain, network)
    header = writer.HEADER
    if run.secret_keys:
        keys = ", ".join(run.secret_keys)
        header += writer.REFERENCES_NOTE.format(secret=names.secret, namespace=names.namespace,
                                            keys=keys)  # fmt: skip
    path = writer.write(options.output_dir / f"{meta.product}-{options.env}.yaml", docs, header)
    return Generated(path, writer.ordered(docs), dests, names, network.name)


def build(
    names: Names,
    artifacts: CompiledArtifacts,
    files: dict[str, str],
    dests: list[Destination],
    run: workload.RunSpec,
    cluster_domain: str,
    network: NetworkSecurityPlugin[Any],
) -> list[dict[str, Any]]:
    """Every resource of the product, in KIND_ORDER; the network isolation is ``network``'s
    (the manifest's network_security plugin)."""
    schedule = artifacts.schedule
    docs = [
        rbac.namespace(names),
        rbac.service_account(names),
        rbac.role(names, has_secrets=bool(run.secret_keys)),
        rbac.role_binding(names),
        workload.artifacts_configmap(names, files),
        *network_policies(network, names, dests, cluster_domain),
        workload.job(run),
        workload.cron_job(run, schedule.cron, schedule.timezone, schedule.enabled),
    ]
    return writer.ordered(docs)


def _compile(options: K8sOptions) -> tuple[CompiledArtifacts, Manifest, dict[str, str]]:
    with tempfile.TemporaryDirectory(prefix="floe-k8s-") as tmp:
        ctx = compile_product(options.product_dir, manifest=options.manifest, env=options.env,
                              out_dir=Path(tmp))  # fmt: skip
        files = {name: (Path(tmp) / name).read_text(encoding="utf-8")
                 for name in (ARTIFACTS_FILE, PROFILES_FILE)}  # fmt: skip
    assert ctx.artifacts is not None
    check_size(files)
    return ctx.artifacts, ctx.need_manifest(), files


def check_size(files: dict[str, str]) -> None:
    """E603 when the compiled files do not fit into one ConfigMap."""
    size = sum(len(text.encode()) for text in files.values())
    if size > CONFIGMAP_LIMIT:
        raise FloeError.single(
            E_TOO_BIG,
            f"the compiled artifacts ({size} bytes) exceed a ConfigMap's 1 MiB limit",
            hint="split the product into smaller products, or shorten descriptions",
        )


def _run_spec(
    options: K8sOptions, names: Names, artifacts: CompiledArtifacts, manifest: Manifest
) -> workload.RunSpec:
    return workload.RunSpec(
        names=names,
        image=options.image or f"floe-{names.product}:{names.version}",
        resources=_preset(manifest, options.preset),
        secret_keys=workload.secret_names(artifacts),
        env_prefix=workload.env_prefix(artifacts),
        source_hash=artifacts.metadata.source_hash,
    )


def _preset(manifest: Manifest, name: str | None) -> ResourcePreset:
    """The named preset; else 'default' or 'small' when defined; else built-in defaults."""
    presets = manifest.resource_presets
    if name is None:
        found = next((p for p in DEFAULT_PRESETS if p in presets), None)
        return presets[found] if found else ResourcePreset()
    if name not in presets:
        raise FloeError.single(
            E_PRESET,
            f"unknown resource preset '{name}'",
            field_path="resource_presets",
            hint=f"presets in manifest.yaml: {', '.join(sorted(presets)) or '(none)'}",
        )
    return presets[name]
