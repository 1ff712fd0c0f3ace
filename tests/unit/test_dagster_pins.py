"""The Dagster packages floe runs on: the lock's versions, installed, agreeing with each other,
and every orchestration module importing against them."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
import tomllib
from importlib import metadata

import pytest
from packaging.requirements import Requirement

import floe.orchestrate
from tests.conftest import ROOT

DAGSTER_FAMILY = ("dagster", "dagster-dbt", "dagster-graphql", "dagster-k8s", "dagster-pipes",
                  "dagster-postgres", "dagster-shared", "dagster-webserver")  # fmt: skip


def _locked() -> dict[str, str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    return {p["name"]: p["version"] for p in lock["package"] if p["name"] in DAGSTER_FAMILY}


@pytest.mark.requirement("WU3-AC2")
def test_dagster_integrations_resolve_with_the_locked_dagster() -> None:
    """Every Dagster package the lock names is installed at the locked version, and every
    requirement one of them places on another (dagster-dbt on dagster, …) admits the version
    installed: the integrations and Dagster resolve together."""
    locked = _locked()
    assert set(locked) == set(DAGSTER_FAMILY)
    installed = {name: metadata.version(name) for name in locked}
    assert installed == locked
    checked = 0
    for name in locked:
        for raw in metadata.requires(name) or []:
            req = Requirement(raw)
            if req.name in locked and (req.marker is None or req.marker.evaluate()):
                assert req.specifier.contains(installed[req.name], prereleases=True), (name, raw)
                checked += 1
    assert checked >= len(locked) - 1  # each integration depends on at least one other


@pytest.mark.requirement("WU3-AC3")
def test_every_orchestration_module_imports_against_the_locked_dagster() -> None:
    """Each module of floe.orchestrate (and its adapters) imports in a fresh interpreter with
    the locked Dagster — no name floe uses has moved or gone."""
    names = sorted(
        m.name for m in pkgutil.walk_packages(floe.orchestrate.__path__, "floe.orchestrate.")
    )
    assert "floe.orchestrate.definitions" in names
    code = (
        "import importlib, json, sys, dagster\n"
        "for n in sys.argv[1:]: importlib.import_module(n)\n"
        "print(json.dumps([dagster.__version__, sorted(n for n in sys.argv[1:] "
        "if n in sys.modules)]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    version, imported = json.loads(proc.stdout.strip().splitlines()[-1])
    assert version == _locked()["dagster"]
    assert imported == names
