"""floe.yaml's dbt vars per environment and its source-to-product map, as compiled."""

from __future__ import annotations

from pathlib import Path

import pytest

from floe.compile.api import compile_product
from floe.orchestrate.dbt_manifest import dbt_args
from tests.conftest import write_tiny

EXTRA = """\
vars:
  region: EU
  limit: 5
environments:
  prod:
    vars: {region: US}
sources:
  - {name: crm, product: customer-360}
"""


@pytest.mark.requirement("FR-020")
@pytest.mark.parametrize(("env", "region"), [("dev", "EU"), ("prod", "US")])
def test_vars_of_the_environment_reach_every_dbt_invocation(
    tmp_path: Path, env: str, region: str
) -> None:
    """Top-level vars apply everywhere, an environment's vars override them there; the
    artifacts record them and every dbt invocation gets them as one ``--vars`` JSON."""
    root = write_tiny(tmp_path / "tiny")
    (root / "floe.yaml").write_text((root / "floe.yaml").read_text() + EXTRA)
    ctx = compile_product(root, env=env)
    assert ctx.artifacts is not None
    assert ctx.artifacts.dbt.vars == {"limit": 5, "region": region}
    assert dbt_args(ctx.artifacts) == ("--vars", f'{{"limit": 5, "region": "{region}"}}')
    assert [(s.name, s.product, s.namespace) for s in ctx.artifacts.sources] == [
        ("crm", "customer-360", "customer_360")
    ]
