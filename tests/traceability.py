"""Requirement traceability: which tests prove which requirement of tests/requirements.yaml.

Reads the ``@pytest.mark.requirement(...)`` markers of every test by an AST scan of tests/
(no imports, no collection: it runs in a fraction of a second), then prints each requirement
with its tests and the coverage per group, and exits non-zero when

- a marker names an id that is not in the requirement list,
- a test function has no requirement marker,
- a requirement marker sits on a function or class that is not a test (a helper),
- a group's coverage is under its threshold in the requirement list.

Usage: ``python tests/traceability.py [--summary] [--raise]`` (``make trace``).
``--raise`` writes today's figures as the new thresholds where they are higher.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TESTS = Path(__file__).resolve().parent
REQUIREMENTS = TESTS / "requirements.yaml"
GROUPS = ("FR", "SC", "TQR", "GAP", "NF", "WU", "15-FR", "FLOE")
_GROUP_RE = re.compile(r"^(15-FR|FR|SC|TQR|GAP|NF|WU|FLOE)-?\d")


def group_of(req_id: str) -> str:
    """The group a requirement id belongs to (``WU6-AC1`` -> ``WU``)."""
    match = _GROUP_RE.match(req_id)
    if match is None:
        raise ValueError(f"requirement id {req_id!r} belongs to no group {GROUPS}")
    return match.group(1)


@dataclass(frozen=True)
class Requirement:
    """One entry of tests/requirements.yaml."""

    id: str
    title: str
    in_scope: bool
    reason: str = ""
    issue: int | None = None


@dataclass
class Marker:
    """A requirement marker on a test: where it is and which id it names."""

    test: str  # tests/unit/test_x.py::TestClass::test_name
    req_id: str


@dataclass
class Scan:
    """Everything the AST scan found."""

    markers: list[Marker] = field(default_factory=list)
    unmarked: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    #: Requirement markers on a function or class pytest does not collect as a test.
    misplaced: list[str] = field(default_factory=list)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a requirement listed twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        dupes = sorted({str(k) for k in keys if keys.count(k) > 1})
        if dupes:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate keys {dupes}", node.start_mark
            )
        return super().construct_mapping(node, deep=deep)


def load_requirements(path: Path = REQUIREMENTS) -> tuple[dict[str, Requirement], dict[str, int]]:
    """The requirements (by id, in file order) and the per-group thresholds."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    reqs: dict[str, Requirement] = {}
    for req_id, entry in data["requirements"].items():
        group_of(req_id)
        scope = entry.get("scope", "in")
        if scope not in ("in", "out") or (scope == "out" and not entry.get("reason")):
            raise ValueError(f"{req_id}: scope must be in, or out with a reason")
        reqs[req_id] = Requirement(
            req_id, entry["title"], scope == "in", entry.get("reason", ""), entry.get("issue")
        )
    thresholds = {g: int(v) for g, v in data.get("thresholds", {}).items()}
    return reqs, thresholds


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "string"`` assignments (markers may name a constant)."""
    out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    out[target.id] = node.value.value
    return out


def _requirement_calls(node: ast.expr) -> Iterator[ast.Call]:
    """``pytest.mark.requirement(...)`` calls in a decorator or a ``pytestmark`` value."""
    for sub in ast.walk(node):
        if (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Attribute)
            and sub.func.attr == "requirement"
            and isinstance(sub.func.value, ast.Attribute)
            and sub.func.value.attr == "mark"
        ):
            yield sub


def _ids(nodes: list[ast.expr], consts: dict[str, str], where: str, scan: Scan) -> list[str]:
    out: list[str] = []
    for deco in nodes:
        for call in _requirement_calls(deco):
            for arg in call.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    out.append(arg.value)
                elif isinstance(arg, ast.Name) and arg.id in consts:
                    out.append(consts[arg.id])
                else:
                    scan.unresolved.append(f"{where}: {ast.unparse(arg)}")
    return out


def _module_marks(tree: ast.Module) -> list[ast.expr]:
    return [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets)
    ]


def scan_file(path: Path, rel: str, scan: Scan) -> None:
    """Add the markers of one test module to ``scan``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    consts = _constants(tree)
    module_ids = _ids(_module_marks(tree), consts, rel, scan)

    def visit(body: list[ast.stmt], prefix: str, inherited: list[str]) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                own = _ids(node.decorator_list, consts, f"{prefix}::{node.name}", scan)
                visit(node.body, f"{prefix}::{node.name}", inherited + own)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
                "test"
            ):
                test = f"{prefix}::{node.name}"
                ids = inherited + _ids(node.decorator_list, consts, test, scan)
                if not ids:
                    scan.unmarked.append(test)
                scan.markers.extend(Marker(test, i) for i in ids)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and any(
                True for d in node.decorator_list for _ in _requirement_calls(d)
            ):
                scan.misplaced.append(f"{prefix}::{node.name}")

    visit(tree.body, rel, module_ids)


def scan_tests(root: Path = TESTS) -> Scan:
    """Markers of every ``test_*.py`` under ``root``."""
    scan = Scan()
    for path in sorted(root.rglob("test_*.py")):
        scan_file(path, path.relative_to(root.parent).as_posix(), scan)
    return scan


@dataclass
class Coverage:
    """Coverage of one group: in-scope requirements covered / in scope; out of scope apart."""

    group: str
    covered: int
    in_scope: int
    out_of_scope: int

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.in_scope if self.in_scope else 100.0


def coverage(reqs: dict[str, Requirement], tests_by_id: dict[str, list[str]]) -> list[Coverage]:
    """Per-group coverage, in GROUPS order."""
    out = []
    for group in GROUPS:
        members = [r for r in reqs.values() if group_of(r.id) == group]
        scoped = [r for r in members if r.in_scope]
        covered = sum(1 for r in scoped if tests_by_id.get(r.id))
        out.append(Coverage(group, covered, len(scoped), len(members) - len(scoped)))
    return out


def _table(reqs: dict[str, Requirement], tests_by_id: dict[str, list[str]]) -> list[str]:
    lines = []
    for req in reqs.values():
        tests = tests_by_id.get(req.id, [])
        if not req.in_scope:
            status = "out"
        elif tests:
            status = f"{len(tests):>3}"
        else:
            status = "  -"
        note = f"  [out: {req.reason}]" if not req.in_scope else ""
        note += f"  [issue {req.issue}]" if req.issue and not tests and req.in_scope else ""
        lines.append(f"{req.id:<10} {status}  {req.title}{note}")
        lines.extend(f"{'':<16}{t}" for t in tests)
    return lines


def raise_thresholds(path: Path, figures: dict[str, int]) -> None:
    """Rewrite the thresholds block with ``figures`` where they are higher (text edit)."""
    text = path.read_text(encoding="utf-8")
    for group, value in figures.items():
        pattern = re.compile(rf"^(  {re.escape(group)}: )(\d+)$", re.MULTILINE)
        match = pattern.search(text)
        if match and value > int(match.group(2)):
            text = text[: match.start(2)] + str(value) + text[match.end(2) :]
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Print the report; return 1 when a check fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", action="store_true", help="only the per-group figures")
    parser.add_argument(
        "--raise", dest="raise_", action="store_true", help="raise thresholds to today's figures"
    )
    args = parser.parse_args(argv)

    reqs, thresholds = load_requirements()
    scan = scan_tests()
    tests_by_id: dict[str, list[str]] = {}
    for marker in scan.markers:
        tests_by_id.setdefault(marker.req_id, []).append(marker.test)

    if not args.summary:
        print("\n".join(_table(reqs, tests_by_id)))
        print()
    errors = [
        f"unknown requirement {m.req_id!r} on {m.test}"
        for m in scan.markers
        if m.req_id not in reqs
    ]
    errors += [f"no requirement marker: {t}" for t in scan.unmarked]
    errors += [f"marker argument is not a string or module constant: {u}" for u in scan.unresolved]
    errors += [f"requirement marker on something that is not a test: {m}" for m in scan.misplaced]

    figures = coverage(reqs, tests_by_id)
    print(f"{'group':<6} {'covered':>8} {'in scope':>9} {'out':>4} {'%':>6} {'floor':>6}")
    for cov in figures:
        floor = thresholds.get(cov.group, 0)
        print(
            f"{cov.group:<6} {cov.covered:>8} {cov.in_scope:>9} {cov.out_of_scope:>4} "
            f"{cov.percent:>6.1f} {floor:>6}"
        )
        if cov.percent + 1e-9 < floor:
            errors.append(f"{cov.group} coverage {cov.percent:.1f} % is under its floor {floor} %")
    total_in = sum(c.in_scope for c in figures)
    total_cov = sum(c.covered for c in figures)
    print(
        f"{'all':<6} {total_cov:>8} {total_in:>9} {sum(c.out_of_scope for c in figures):>4} "
        f"{100.0 * total_cov / total_in:>6.1f}"
    )
    print(f"{len(scan.markers)} markers on {len({m.test for m in scan.markers})} tests")

    if args.raise_:
        raise_thresholds(REQUIREMENTS, {c.group: int(c.percent) for c in figures})
    for error in errors:
        print(f"trace: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
