"""What dbt itself rejects is a `floe validate` error with the file, the line and exit 2; what
dbt accepts (Python models, local packages) floe accepts too (issue 10, point 4).

Each case is a small dbt project written here. The checks that need dbt run `floe validate`
in-process (dbt is imported once); the pure-compile ones go through the same entry point.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from floe.cli.main import main
from floe.runtime.dbt_check import ensure_deps
from floe.spec.dbt_packages import install_dir
from tests.conftest import TINY_MANIFEST

PROJECT = "name: shop\nprofile: shop\nversion: '1.0'\n"
GOOD = {"models/stg_orders.sql": "select 1 as order_id\n"}
TRANSFORMS = "  - name: stg_orders\n    tier: bronze\n"


@dataclass(frozen=True)
class Case:
    """A broken project: its files, and the code, file and line floe must report."""

    files: dict[str, str | bytes]
    code: str
    file: str
    line: int
    words: str
    project: str = PROJECT
    transforms: str = TRANSFORMS


CASES = {
    "undefined ref (pure)": Case(
        {"models/stg_orders.sql": "select 1 as order_id\nfrom {{ ref('orderz') }}\n"},
        "E211", "models/stg_orders.sql", 1, "ref('orderz') names no model or seed"),
    "undefined source": Case(
        {"models/stg_orders.sql": "select 1 as order_id\nfrom {{ source('shop', 'raw') }}\n"},
        "E161", "models/stg_orders.sql", 2, "source('shop', 'raw') is not declared"),
    "undefined macro": Case(
        {"models/stg_orders.sql": "select 1 as order_id,\n  {{ cents_to_euros('x') }} as e\n"},
        "E162", "models/stg_orders.sql", 2, "macro or function 'cents_to_euros' is not defined"),
    "undefined var": Case(
        {"models/stg_orders.sql": "select 1 as order_id\n\nwhere 1 = {{ var('region') }}\n"},
        "E163", "models/stg_orders.sql", 3, "var('region') has no value and no default"),
    "broken jinja": Case(
        {"models/stg_orders.sql": "select 1 as order_id\n{% if %}\n"},
        "E164", "models/stg_orders.sql", 2, "dbt cannot compile the Jinja"),
    "ref cycle (pure)": Case(
        {"models/stg_orders.sql": "select * from {{ ref('stg_items') }}\n",
         "models/stg_items.sql": "select * from {{ ref('stg_orders') }}\n"},
        "E214", "models/stg_items.sql", 1, "cycle: stg_items → stg_orders → stg_items",
        transforms=TRANSFORMS + "  - name: stg_items\n    tier: bronze\n"),
    "two models with one name (pure)": Case(
        {**GOOD, "models/more/stg_orders.sql": "select 2 as order_id\n"},
        "E133", "models/stg_orders.sql", 1, "two dbt models are named 'stg_orders'"),
    "project without profile": Case(
        GOOD, "E166", "dbt_project.yml", 0, "dbt_project.yml names no profile",
        project="name: shop\nversion: '1.0'\n"),
    "sql file not utf-8 (pure)": Case(
        {"models/stg_orders.sql": "select 1 as order_id,\n 'caf\xe9' as x\n".encode("latin-1")},
        "E132", "models/stg_orders.sql", 2, "not UTF-8 (byte 0xe9)"),
    "hub package not installed (pure)": Case(
        {**GOOD, "packages.yml": "packages:\n  - local: ../lib\n"
                                 "  - package: dbt-labs/dbt_utils\n    version: 1.3.0\n"},
        "E134", "packages.yml", 3, "dbt package package 'dbt-labs/dbt_utils' is not installed"),
    "external materialization (pure)": Case(
        {"models/stg_orders.sql": "{{ config(\n  materialized='external',\n"
                                  "  location='/tmp/x.parquet') }}\nselect 1 as order_id\n"},
        "E135", "models/stg_orders.sql", 2, "'external' materialization"),
}  # fmt: skip


def _product(root: Path, files: dict[str, str | bytes], project: str, transforms: str) -> Path:
    (root / "manifest.yaml").write_text(TINY_MANIFEST)
    product = root / "shop"
    (product / "models").mkdir(parents=True)
    (product / "dbt_project.yml").write_text(project)
    (product / "floe.yaml").write_text(
        "apiVersion: floe.dev/v1\nkind: FloeSpec\nmetadata:\n  name: shop\n  version: 1.0.0\n"
        "  owner: shop@example.com\nplatform:\n  manifest: ../manifest.yaml\n"
        "transforms:\n" + transforms
    )
    for rel, text in files.items():
        path = product / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
    return product


def _validate(
    product: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """`floe validate PRODUCT --offline` through the console entry point, in-process."""
    monkeypatch.setattr(sys, "argv", ["floe", "validate", str(product), "--offline"])
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as exited:
        main()
    return int(exited.value.code or 0), capsys.readouterr().err


@pytest.mark.requirement("FR-015")
@pytest.mark.parametrize("name", list(CASES))
def test_what_dbt_rejects_is_a_validate_error_at_its_line(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each broken project: exit 2, one error with floe's code, the file (and the line where
    one is known), naming what is wrong; never exit 0 or an internal error."""
    case = CASES[name]
    product = _product(tmp_path, case.files, case.project, case.transforms)
    code, err = _validate(product, monkeypatch, capsys)
    assert code == 2, err
    assert "internal error" not in err
    errors = [line for line in err.splitlines() if f"error[{case.code}]" in line]
    assert len(errors) == 1, err
    where = str(product / case.file) + (f":{case.line}:" if case.line else ":")
    assert errors[0].startswith(where), err
    assert case.words in errors[0], err
    assert not (product / "target").exists()


@pytest.mark.requirement("FR-015")
def test_python_models_and_local_packages_validate_like_in_dbt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dbt-duckdb Python model is a model (its dbt.ref is its dependency); a local package's
    macro is installed by ensure_deps (dbt deps, once) and the project passes dbt's check."""
    lib = tmp_path / "lib"
    (lib / "macros").mkdir(parents=True)
    (lib / "dbt_project.yml").write_text("name: shoplib\nversion: '1.0'\n")
    (lib / "macros" / "cents.sql").write_text("{% macro cents(c) %}({{ c }} / 100.0){% endmacro %}")
    files: dict[str, str | bytes] = {
        "models/stg_orders.sql": "select 250 as cents, {{ shoplib.cents('250') }} as euros\n",
        "models/int_totals.py": "def model(dbt, session):\n"
        "    dbt.config(materialized='table')\n"
        "    return dbt.ref('stg_orders').df()\n",
        "packages.yml": "packages:\n  - local: ../lib\n",
    }
    transforms = (
        TRANSFORMS + "  - name: int_totals\n    tier: silver\n    dependsOn: [stg_orders]\n"
    )
    product = _product(tmp_path, files, PROJECT, transforms)
    code, err = _validate(product, monkeypatch, capsys)
    assert code == 0, err
    assert "W210" not in err  # dependsOn matches the Python model's dbt.ref
    installed = install_dir(product) / "shoplib"
    assert installed.resolve() == lib.resolve()
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    assert ensure_deps(product, profiles, "dev") is False  # already current: dbt deps not rerun
