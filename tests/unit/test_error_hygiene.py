"""FR-066: what a user sees for a compile error is the diagnostic — never a traceback, never
a path inside floe's installation or the Python environment."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import floe
from floe.errors import public_text
from tests.conftest import TINY_MANIFEST, TINY_SPEC, run_floe

INTERNAL = [str(Path(floe.__file__).resolve().parent), sys.prefix, "site-packages"]


def _text(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _write(path: Path, text: str) -> None:
    path.write_text(text)


def _strict_star(p: Path) -> None:
    _text(p / "manifest.yaml", "level: warn", "level: strict")
    _write(p / "models" / "mart_revenue.sql", "select * from {{ ref('int_orders') }}\n")


def _out_is_a_file(p: Path) -> list[str]:
    _write(p / "out.txt", "x")
    return ["--out", str(p / "out.txt")]


LAXER = "governance:\n  policy_enforcement_level: 'off'\n"

#: case → (change to the tiny product returning extra CLI args, exit status, code shown)
CASES: dict[str, tuple[Callable[[Path], list[str] | None], int, str]] = {
    "yaml syntax": (lambda p: _text(p / "floe.yaml", "tier: bronze", "tier: [bronze"), 2, "E101"),
    "unknown field": (
        lambda p: _text(p / "floe.yaml", "    tier: silver\n", "    tier: silver\n    teir: x\n"),
        2, "E110",
    ),
    "duplicate key": (
        lambda p: _text(p / "floe.yaml", "  owner: data@example.com\n", "  owner: a\n  owner: b\n"),
        2, "E102",
    ),
    "no floe.yaml": (lambda p: (p / "floe.yaml").unlink(), 2, "E100"),
    "no dbt project": (lambda p: (p / "dbt_project.yml").unlink(), 2, "E130"),
    "bad properties": (
        lambda p: _text(p / "models" / "schema.yml", "    description: Revenue.\n    columns:\n",
                        "    description: Revenue.\n    columns: 5\n    x:\n"),
        2, "E131",
    ),
    "unknown plugin": (
        lambda p: _text(p / "manifest.yaml", "type: sql", "type: nosuch"), 2, "E206",
    ),
    "unknown ref": (
        lambda p: _write(p / "models" / "int_orders.sql", "select * from {{ ref('nope') }}\n"),
        2, "E211",
    ),
    "laxer governance": (lambda p: _write(p / "floe.yaml", TINY_SPEC + LAXER), 2, "E302"),
    "strict violation": (_strict_star, 3, "P460"),
    "out is a file": (_out_is_a_file, 2, "E150"),
    "report format": (lambda p: ["--report", "pdf", str(p / "r.pdf")], 2, "E140"),
    "reason missing": (lambda p: ["--allow-breaking"], 2, "E141"),
}  # fmt: skip


@pytest.mark.requirement("FR-066")
@pytest.mark.parametrize("case", sorted(CASES))
def test_compile_errors_show_no_traceback_and_no_internal_path(tiny: Path, case: str) -> None:
    """Each compile error exits with its status and code, no traceback, no internal path."""
    (tiny / "manifest.yaml").write_text(TINY_MANIFEST)
    mutate, code, diag = CASES[case]
    extra = mutate(tiny) or []
    res = run_floe("compile", tiny, *extra, cwd=tiny.parent)
    shown = res.out + res.err
    assert res.code == code, shown
    assert f"[{diag}]" in res.err
    assert "Traceback" not in shown
    assert 'File "' not in shown
    assert [p for p in INTERNAL if p in shown] == []
    assert "hint:" in res.err


@pytest.mark.requirement("FR-066")
def test_internal_error_text_hides_install_paths() -> None:
    """An unexpected exception's text naming files of floe or of the Python environment is shown
    with <floe>/<python> instead of those directories."""
    here = Path(floe.__file__).resolve().parent / "compile" / "api.py"
    lib = Path(sys.prefix) / "lib" / "site.py"
    try:
        open(here / "nope", encoding="utf-8")  # noqa: SIM115 - NotADirectoryError wanted
    except OSError as exc:
        text = public_text(f"{type(exc).__name__}: {exc} (via {lib})")
    assert text == (
        "NotADirectoryError: [Errno 20] Not a directory: '<floe>/compile/api.py/nope' "
        "(via <python>/lib/site.py)"
    )
