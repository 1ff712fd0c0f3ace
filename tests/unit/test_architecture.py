"""Layers point down and no module imports itself in a circle (docs/architecture.md).

Reads every module of ``src/floe`` with :mod:`ast` — imports inside functions count (they run),
so do imports under ``if TYPE_CHECKING:`` for the layer rule (a type reference is a
dependency too). The cycle rule follows the imports that run: a type-only back-reference
never executes.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

SRC = ROOT / "src"
ARCHITECTURE_DOC = ROOT / "docs" / "architecture.md"

#: Bottom to top. A module may import from its own layer's package and from layers below it;
#: packages sharing a layer are siblings and import neither each other nor anything above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("floe", "floe.errors", "floe.events"),
    ("floe.spec",),
    ("floe.plugins",),
    ("floe.govern",),
    ("floe.compile",),
    ("floe.runtime", "floe.demo_data"),
    ("floe.observe",),
    ("floe.orchestrate", "floe.k8s", "floe.promote"),
    ("floe.app",),
    ("floe.cli",),
)
LAYER_OF = {package: index for index, layer in enumerate(LAYERS) for package in layer}


@dataclass(frozen=True)
class Import:
    """One import statement resolved to the floe module it loads."""

    source: str
    target: str
    path: Path
    line: int
    type_only: bool

    def where(self) -> str:
        """``src/floe/x.py:12 imports floe.y``."""
        return f"{self.path.relative_to(ROOT)}:{self.line} imports {self.target}"


def _modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for path in sorted((SRC / "floe").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        mods[".".join(parts)] = path
    return mods


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                inside.update(id(n) for n in ast.walk(child))
    return inside


def _targets(node: ast.AST, package: str, mods: dict[str, Path]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            parent = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*parent, *([node.module] if node.module else [])])
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            yield sub if sub in mods else base


def _imports() -> list[Import]:
    mods = _modules()
    found: dict[tuple[str, str, int], Import] = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(), str(path))
        type_only = _type_checking_nodes(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            for target in _targets(node, package, mods):
                if target != "floe" and not target.startswith("floe."):
                    continue
                while target not in mods and "." in target:
                    target = target.rpartition(".")[0]
                if target != name:
                    line = getattr(node, "lineno", 0)
                    imp = Import(name, target, path, line, id(node) in type_only)
                    found[(name, target, line)] = imp
    return list(found.values())


def _layer_of(module: str) -> tuple[int, str]:
    """(layer index, the package of LAYERS the module belongs to)."""
    name = module
    while name not in LAYER_OF or (name == "floe" and module != "floe"):
        assert "." in name, f"{module} belongs to no layer: add its package to LAYERS and docs"
        name = name.rpartition(".")[0]
    return LAYER_OF[name], name


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return out


@pytest.mark.requirement("FLOE-001")
def test_every_import_points_down_the_layers() -> None:
    """No module imports a package of a higher layer, or a sibling package of its own layer."""
    wrong = []
    for imp in _imports():
        (src_layer, src_pkg), (dst_layer, dst_pkg) = _layer_of(imp.source), _layer_of(imp.target)
        if dst_layer > src_layer:
            wrong.append(f"{imp.where()}: {src_pkg} may not import {dst_pkg} (a higher layer)")
        elif dst_layer == src_layer and dst_pkg != src_pkg and dst_pkg != "floe":
            wrong.append(f"{imp.where()}: {src_pkg} may not import its sibling {dst_pkg}")
    assert not wrong, "upward imports:\n" + "\n".join(wrong)


@pytest.mark.requirement("FLOE-001")
def test_no_import_cycle_between_modules_or_packages() -> None:
    """The imports that run form no cycle, neither between modules nor between packages."""
    running = [imp for imp in _imports() if not imp.type_only]
    assert len(running) > 200  # the scan saw the codebase (about 360 floe imports)
    problems = []
    for level in ("module", "package"):

        def node(m: str, level: str = level) -> str:
            return m if level == "module" else _layer_of(m)[1]

        edges: dict[str, set[str]] = {}
        for imp in running:
            if node(imp.source) != node(imp.target):
                edges.setdefault(node(imp.source), set()).add(node(imp.target))
        for cycle in _cycles(edges):
            members = set(cycle)
            example: dict[tuple[str, str], str] = {}  # one import per edge of the cycle
            for imp in running:
                pair = (node(imp.source), node(imp.target))
                if pair[0] != pair[1] and set(pair) <= members:
                    example.setdefault(pair, imp.where())
            lines = [example[pair] for pair in sorted(example)]
            problems.append(f"{level} cycle {' <-> '.join(cycle)}:\n  " + "\n  ".join(lines))
    assert not problems, "\n".join(problems)


@pytest.mark.requirement("FLOE-001")
def test_architecture_doc_draws_the_layers_in_the_tested_order() -> None:
    """docs/architecture.md's picture names the layers top to bottom in the order tested here."""
    picture = ARCHITECTURE_DOC.read_text().split("<!-- layers -->")[1]
    drawn = []
    for row in picture.splitlines():
        head = re.match(r"\s*│\s*((?:[a-z0-9_]+(?:/|\.py)\s*)+)", row)
        if head:
            drawn.append(tuple(re.findall(r"([a-z0-9_]+)(?:/|\.py)", head.group(1))))
    expected = [
        tuple(p.removeprefix("floe.") for p in layer if p != "floe") for layer in reversed(LAYERS)
    ]
    assert drawn == expected


#: What the CLI may import at run time: the use cases, its own modules, errors and events.
CLI_MAY_IMPORT = ("floe", "floe.app", "floe.cli", "floe.errors", "floe.events")


@pytest.mark.requirement("FLOE-002")
def test_the_cli_goes_through_the_use_case_layer() -> None:
    """Every CLI command reaches compile, runtime, orchestration and observability through
    ``floe.app`` (the use cases the Dagster code location uses too): the CLI's running imports
    name only ``floe.app``, its own modules, errors and events."""
    imports = [imp for imp in _imports() if imp.source.startswith("floe.cli")]
    assert len({imp.source for imp in imports}) >= 10  # the scan saw every command module
    wrong = [
        imp.where()
        for imp in imports
        if not imp.type_only and _layer_of(imp.target)[1] not in CLI_MAY_IMPORT
    ]
    assert not wrong, "the CLI bypasses floe.app:\n" + "\n".join(wrong)
    location = ROOT / "src" / "floe" / "compile" / "definitions_file.py"
    assert "from floe.app.location import load_location" in location.read_text()
