"""The tiny product on a platform with dev, staging and prod, an OCI registry, a signing key,
an offline advisory file, a Rego policy and an approver (for tests/e2e/test_promotion.py)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import TINY_MANIFEST, write_tiny
from tests.e2e.oci_registry import Registry

APPROVER = "carol@example.com"
DEVELOPER = "alice@example.com"
POLICY = "policies/promotion.rego"
GOLD_NEEDS_TESTS = """\
package floe.promotion

deny contains msg if {
  some m in input.models
  m.tier == "gold"
  count(m.tests) == 0
  msg := sprintf("gold model %s has no tests", [m.name])
}
"""


def manifest_text(registry_url: str, public_pem: str) -> str:
    """dev (warn), staging and prod (strict); artifacts with registry, key and promotion."""
    key = "".join(f"          {line}\n" for line in public_pem.strip().splitlines())
    return (
        f"{TINY_MANIFEST}environments:\n  dev: {{}}\n  staging:\n    governance:\n"
        "      policy_enforcement_level: strict\n  prod:\n    governance:\n"
        "      policy_enforcement_level: strict\n"
        f"artifacts:\n  registry:\n    url: {registry_url}\n    insecure: true\n"
        "  signing:\n    key: {secret: FLOE_SIGNING_KEY}\n    key_name: release\n"
        f"    trusted_keys:\n      - name: release\n        public_key: |\n{key}"
        f"  promotion:\n    advisories: advisories.json\n    rego: [{POLICY}]\n"
        f"    approvers: [{APPROVER}]\n"
    )


def write_platform(root: Path, registry: Registry, public_pem: str, name: str) -> Path:
    """The product ``name`` in ``root`` with its manifest, an empty advisory file and the
    Rego policy that a gold model needs a test (the tiny product's has one)."""
    product = write_tiny(root, manifest=manifest_text(registry.url(), public_pem))
    spec = product / "floe.yaml"
    spec.write_text(spec.read_text().replace("name: tiny\n", f"name: {name}\n", 1))
    write_advisories(product, [])
    write_policy(product, GOLD_NEEDS_TESTS)
    return product


def write_policy(product: Path, rego: str) -> None:
    """The Rego policy the manifest names (artifacts.promotion.rego)."""
    path = product / POLICY
    path.parent.mkdir(exist_ok=True)
    path.write_text(rego)


def write_advisories(product: Path, advisories: list[dict[str, str]]) -> None:
    """The offline advisory file beside the manifest."""
    (product / "advisories.json").write_text(json.dumps({"advisories": advisories}))
