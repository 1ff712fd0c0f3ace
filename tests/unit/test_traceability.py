"""The traceability report and the test-quality rules it stands on, checked on our own tests."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import traceability
from tests.conftest import ROOT

TEST_FILES = sorted((ROOT / "tests").rglob("*.py"))


@pytest.mark.requirement("NF-4")
@pytest.mark.requirement("SC-010")
def test_every_marker_names_a_listed_requirement_and_floors_hold(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The repository's report passes: every test has a marker, every marker names an id of
    tests/requirements.yaml, and no group is under its floor."""
    assert traceability.main(["--summary"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()[1:9]] == list(traceability.GROUPS)


@pytest.mark.requirement("NF-4")
def test_unknown_id_missing_marker_and_constants_are_found(tmp_path: Path) -> None:
    """A typo'd id is reported as unknown, a test without marker as unmarked, a marker on a
    helper as misplaced; a marker naming a module constant, a class marker and pytestmark all
    reach their tests."""
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_x.py").write_text(
        "import pytest\n"
        'FR = "FR-083"\n'
        'pytestmark = [pytest.mark.requirement("SC-002")]\n'
        "@pytest.mark.requirement(FR)\n"
        "def test_a(): pass\n"
        '@pytest.mark.requirement("FR-0833")\n'
        "def test_b(): pass\n"
        '@pytest.mark.requirement("NF-2")\n'
        "class TestC:\n"
        "    def test_c(self): pass\n"
        '@pytest.mark.requirement("FR-010")\n'
        "def _helper(): pass\n"
    )
    (tests / "test_y.py").write_text("def test_unmarked(): pass\n")
    scan = traceability.scan_tests(tests)
    assert sorted((m.test, m.req_id) for m in scan.markers) == [
        ("tests/test_x.py::TestC::test_c", "NF-2"),
        ("tests/test_x.py::TestC::test_c", "SC-002"),
        ("tests/test_x.py::test_a", "FR-083"),
        ("tests/test_x.py::test_a", "SC-002"),
        ("tests/test_x.py::test_b", "FR-0833"),
        ("tests/test_x.py::test_b", "SC-002"),
    ]
    assert scan.unmarked == ["tests/test_y.py::test_unmarked"]
    assert scan.misplaced == ["tests/test_x.py::_helper"]
    reqs, _ = traceability.load_requirements()
    assert [m.req_id for m in scan.markers if m.req_id not in reqs] == ["FR-0833"]


FR_RANGES = ((1, 8), (10, 17), (20, 33), (40, 49), (50, 56), (60, 67), (70, 75), (80, 88), (90, 94))
TQR_RANGES = ((1, 4), (10, 14), (20, 27))


@pytest.mark.requirement("NF-4")
def test_requirement_list_matches_the_seed_numbering() -> None:
    """The list holds every id as the seeds number them: FR-001..094 with the seed's gaps
    (009, 018-019, 034-039, 057-059, 068-069, 076-079, 089), SC-001..010, TQR-001..027 (17),
    GAP-001..010, NF-1..8, 15-FR-001..015; every out-of-scope entry says why."""
    reqs, thresholds = traceability.load_requirements()
    groups = {g: [r for r in reqs if traceability.group_of(r) == g] for g in traceability.GROUPS}
    assert groups["FR"] == [f"FR-{i:03d}" for a, b in FR_RANGES for i in range(a, b + 1)]
    assert groups["TQR"] == [f"TQR-{i:03d}" for a, b in TQR_RANGES for i in range(a, b + 1)]
    assert groups["SC"] == [f"SC-{i:03d}" for i in range(1, 11)]
    assert groups["GAP"] == [f"GAP-{i:03d}" for i in range(1, 11)]
    assert groups["NF"] == [f"NF-{i}" for i in range(1, 9)]
    assert groups["15-FR"] == [f"15-FR-{i:03d}" for i in range(1, 16)]
    assert all(r.reason for r in reqs.values() if not r.in_scope)
    assert set(thresholds) == set(traceability.GROUPS)


def _calls(name: str) -> list[str]:
    """``file:line`` of every call or attribute use ending in ``name`` in the test code."""
    found = []
    for path in TEST_FILES:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Attribute) and ast.unparse(node).endswith(name):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


@pytest.mark.requirement("NF-2")
@pytest.mark.requirement("TQR-013")
def test_no_test_is_skipped() -> None:
    """No pytest.skip(), skip/skipif marker or importorskip anywhere in the tests."""
    assert _calls("pytest.skip") + _calls("mark.skip") + _calls("mark.skipif") == []
    assert _calls("pytest.importorskip") == []


@pytest.mark.requirement("NF-8")
def test_no_sleep_in_test_code() -> None:
    """Tests wait by polling with a deadline, never with time.sleep."""
    assert _calls("time.sleep") == []
    assert [p for p in TEST_FILES if re.search(r"^from time import .*\bsleep\b", p.read_text(),
                                               re.M)] == []  # fmt: skip


@pytest.mark.requirement("TQR-010")
@pytest.mark.requirement("TQR-012")
@pytest.mark.requirement("WU8-AC3")
def test_no_dry_run_todo_or_xfail_in_tests() -> None:
    """No dry_run argument, no TODO/FIXME placeholder and no xfail marker in the test code
    (this file, which names them, aside)."""
    pattern = re.compile(r"\bdry_run\s*=|\b(TODO|FIXME)\b|mark\.xfail")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in TEST_FILES
        if path != Path(__file__)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


@pytest.mark.requirement("GAP-006")
def test_no_test_builds_compiled_artifacts_by_hand() -> None:
    """Artifacts in tests come from the real compile pipeline: no test constructs or validates
    a CompiledArtifacts of its own making."""
    built = []
    for path in TEST_FILES:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call) and ast.unparse(node.func).startswith(
                "CompiledArtifacts"
            ):
                built.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert built == []


#: Test files whose credential-shaped strings are the synthetic inputs of a test of floe's
#: secret handling (file → the formats it may hold, and why).
SECRET_SAMPLES = {
    "tests/unit/test_policies.py": (
        {"JSON web token", "private key"},
        "samples the plaintext-secret scanner must flag (truncated, unsigned)",
    ),
    "tests/unit/test_k8s_generate.py": (
        {"AWS access key id"},
        "a fake key (AKIA + Z*16) injected to prove generated manifests never carry it",
    ),
    "tests/unit/test_secrets.py": (
        {"URL with an embedded password"},
        "URIs the secret resolver splices a resolved password into",
    ),
    "tests/unit/test_spark_sql_catalog.py": (
        {"URL with an embedded password"},
        "a URI whose URL-encoded password the JDBC conversion must decode",
    ),
}


def _credential_strings(path: Path) -> set[str]:
    """The credential formats (floe's secret scanner's) that string literals of ``path``
    match, f-string parts included."""
    from floe.govern.secrets import token_format

    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            label = token_format(node.value)
            if label:
                found.add(label)
    return found


@pytest.mark.requirement("15-FR-013")
def test_no_hard_coded_credential_in_test_files() -> None:
    """No test file holds a string in a real credential format (AWS keys, GitHub, Slack,
    GitLab, Stripe, OpenAI tokens, private keys, JWTs, URLs with a password — floe's secret
    scanner's formats), except the synthetic inputs of the tests of floe's secret handling,
    listed with their reason; credentials of the local servers tests start are test values
    or come from the environment. The scan does find what it looks for."""
    found = {}
    for path in TEST_FILES:
        labels = _credential_strings(path)
        if labels:
            found[str(path.relative_to(ROOT))] = labels
    allowed = {f: labels for f, (labels, _reason) in SECRET_SAMPLES.items()}
    assert found == allowed


def _existence_only(test: ast.expr) -> bool:
    """An assertion that only says something exists: ``x is not None``, ``p.exists()``
    (``is_file``, ``is_dir``), ``len(x) > 0`` / ``>= 1``, or a bare truth value."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        right = test.comparators[0]
        if isinstance(test.ops[0], ast.IsNot) and isinstance(right, ast.Constant):
            return right.value is None
        if isinstance(test.ops[0], (ast.Gt, ast.GtE)) and isinstance(test.left, ast.Call):
            return ast.unparse(test.left.func) == "len" and (
                isinstance(right, ast.Constant) and right.value in (0, 1)
            )
        return False
    if isinstance(test, ast.Call):
        name = ast.unparse(test.func)
        return name.rsplit(".", 1)[-1] in ("exists", "is_file", "is_dir") or name not in (
            "all", "any", "isinstance", "issubclass", "callable")  # fmt: skip
    return isinstance(test, (ast.Name, ast.Attribute, ast.Subscript))


def _weak_tests(source: str) -> list[str]:
    """Test functions of ``source`` that assert nothing, or only that things exist."""
    weak = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            asserts = [a.test for a in ast.walk(node) if isinstance(a, ast.Assert)]
            raises = [c for c in ast.walk(node) if isinstance(c, ast.Call)
                      and ast.unparse(c.func).endswith(("raises", "warns"))]  # fmt: skip
            if not raises and all(_existence_only(a) for a in asserts):
                weak.append(node.name)
    return weak


@pytest.mark.requirement("TQR-001")
@pytest.mark.requirement("TQR-011")
def test_every_test_checks_values_not_only_existence() -> None:
    """Every test function asserts at least one value, count, name or relation (or expects
    an error); none asserts nothing, and none asserts only that something exists (``is not
    None``, ``.exists()``, ``len(x) > 0``, a bare truth value). The check catches both."""
    weak = {str(p.relative_to(ROOT)): _weak_tests(p.read_text()) for p in TEST_FILES}
    assert {p: w for p, w in weak.items() if w} == {}
    sample = (
        "def test_exists(p, x):\n    assert p.exists()\n    assert x is not None\n"
        "def test_nothing():\n    run()\n"
        "def test_len(rows):\n    assert len(rows) > 0\n    assert rows\n"
        "def test_value(rows):\n    assert rows is not None\n    assert len(rows) == 3\n"
        "def test_error():\n    with pytest.raises(ValueError):\n        run()\n"
    )
    assert _weak_tests(sample) == ["test_exists", "test_nothing", "test_len"]


#: The repository's top-level directories a test might name by a path relative to the
#: working directory.
REPO_DIRS = ("demo", "tests", "charts", "examples", "schemas", "docs", "deploy", "src")


def _cwd_relative_paths(source: str) -> list[str]:
    """Path(...) / open(...) calls whose argument is a string naming a repository directory
    relative to the working directory (``Path("demo/x")``, ``open("./tests/y")``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and ast.unparse(node.func).rsplit(".", 1)[-1] in ("Path", "open", "PurePath")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and node.args[0].value.removeprefix("./").split("/")[0] in REPO_DIRS
        ):
            found.append(ast.unparse(node))
    return found


@pytest.mark.requirement("WU5-AC3")
def test_tests_resolve_demo_paths_from_the_repository_root(tmp_path: Path) -> None:
    """No test names a repository path relative to the working directory; the shared ROOT
    and DEMO of tests/conftest.py come from the file's own location, so a test session
    started from any directory (here: a temporary one, in a fresh interpreter) finds the
    demo products of this repository. The scan catches a relative path."""
    found = {str(p.relative_to(ROOT)): _cwd_relative_paths(p.read_text()) for p in TEST_FILES}
    assert {p: f for p, f in found.items() if f} == {}
    assert _cwd_relative_paths('p = Path("demo/customer-360")\nopen("./tests/x.yaml")\n') == [
        "Path('demo/customer-360')", "open('./tests/x.yaml')"]  # fmt: skip
    code = "from tests.conftest import DEMO, PRODUCTS; print(DEMO); print(*PRODUCTS)"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    demo, products = proc.stdout.splitlines()
    assert Path(demo) == ROOT / "demo"
    assert sorted(p.name for p in Path(demo).iterdir() if (p / "floe.yaml").is_file()) == sorted(
        products.split()
    )


@pytest.mark.requirement("WU8-AC4")
@pytest.mark.requirement("WU8-AC6")
@pytest.mark.requirement("WU8-BC2")
def test_no_xfail_remains_and_an_xpass_fails_the_run(tmp_path: Path) -> None:
    """No test is expected to fail: no xfail marker, call or pytestmark anywhere in the test
    code (so none is left without a reason or issue, and no xpass can appear); and pytest
    runs with ``xfail_strict``, so an xfail test that passes fails the run — here a module
    with one, run with the repository's pytest configuration, exits 1 with XPASS(strict)."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in TEST_FILES
        if path != Path(__file__)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bxfail\b", line)
    ]
    assert offenders == []
    (tmp_path / "test_xpass.py").write_text(
        "import pytest\n@pytest.mark.xfail(reason='fixed meanwhile')\ndef test_x():\n    pass\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"),
         "-p", "no:cacheprovider", "-p", "no:xdist", str(tmp_path / "test_xpass.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "[XPASS(strict)] fixed meanwhile" in proc.stdout
