"""Cube's schema compiler (npm ``@cubejs-backend/schema-compiler``), run by Node.js.

``cube_compile.js`` beside this file loads a folder of data-model files with Cube's
``prepareCompiler(repository, {nativeInstance})`` and ``compiler.compile()`` — what the Cube
server does when it loads its model — and prints the compiled cubes (names, dimensions,
measures from Cube's meta transformer) and Cube's error messages as JSON. The one thing it
stands in for is the Jinja engine of Cube's native extension (a Rust binary that npm cannot
install here: its install script downloads it from GitHub), which a compile asks for even
when no file uses Jinja; see the script's header.

`make setup` installs the compiler into ``<python environment>/cube`` (deploy/cube/).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from floe.errors import FloeError, InputError, Location

SCRIPT = Path(__file__).with_name("cube_compile.js")
COMPILER_PACKAGE = "@cubejs-backend/schema-compiler"
TIMEOUT_S = 300.0
E_COMPILER = "E680"
E_LOAD = "E681"


@dataclass(frozen=True)
class CubeError:
    """One message of Cube's compiler; ``file`` None for the whole model."""

    file: str | None
    message: str


@dataclass(frozen=True)
class LoadedCube:
    """A cube as Cube's compiler sees it: members named ``cube.member``."""

    name: str
    dimensions: dict[str, str] = field(default_factory=dict)  # member → type
    measures: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CubeLoad:
    """What Cube's compiler made of a folder."""

    cubes: list[LoadedCube]
    errors: list[CubeError]


def missing(node: str, prefix: Path) -> str:
    """Why the compiler cannot run ('' when it can)."""
    if not Path(node).is_file():
        return f"Node.js ('{node}') is not installed"
    if not (prefix / "node_modules" / COMPILER_PACKAGE / "package.json").is_file():
        return f"Cube's schema compiler is not installed in {prefix}"
    return ""


def compile_folder(node: str, prefix: Path, folder: Path) -> CubeLoad:
    """Load every ``*.yml`` of ``folder`` with Cube's compiler."""
    why = missing(node, prefix)
    if why:
        raise InputError.single(
            E_COMPILER,
            why,
            Location(str(prefix)),
            hint="run `make setup` (npm ci of deploy/cube/ into .venv/cube), or set "
            "plugins.semantic_layer.config.compiler_dir to an npm prefix holding "
            f"{COMPILER_PACKAGE}",
        )
    proc: subprocess.CompletedProcess[str] | None = None
    try:
        proc = subprocess.run(
            [node, str(SCRIPT), str(prefix.resolve()), str(folder.resolve())],
            capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
        )  # fmt: skip
        data = json.loads(proc.stdout)
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        stderr = proc.stderr.strip()[-2000:] if proc is not None else ""
        raise FloeError.single(
            E_LOAD,
            f"Cube's compiler did not answer: {type(exc).__name__}: {exc} {stderr}".strip(),
            Location(str(folder)),
            hint=f"run `{node} {SCRIPT} {prefix} {folder}` to see its output",
        ) from None
    cubes = [
        LoadedCube(
            str(c["name"]),
            {str(d["name"]): str(d["type"]) for d in c.get("dimensions", [])},
            {str(m["name"]): str(m["type"]) for m in c.get("measures", [])},
        )
        for c in data.get("cubes", [])
    ]
    errors = [CubeError(e.get("file"), str(e["message"])) for e in data.get("errors", [])]
    return CubeLoad(cubes, errors)
