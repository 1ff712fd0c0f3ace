"""dbt's own parse and compile errors as floe diagnostics (file:line:col, the dbt feature, a hint).

dbt raises its exception classes (``TargetNotFoundError``, ``DuplicateResourceNameError``,
``CompilationError``, ``ParsingError``, ``DbtProjectError`` …) with the node or file and, for
Jinja, a ``line N``. This module is the one place that reads them; ``parse_errors`` turns a
failed ``dbtRunner().invoke([...])`` result into an :class:`InputError` (exit 2), or None when
dbt succeeded or failed only on something a check without data cannot judge (a query on a
table that does not exist yet).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from floe.errors import Diagnostic, InputError, Location, public_text

E_REF = "E160"
E_SOURCE = "E161"
E_MACRO = "E162"
E_VAR = "E163"
E_JINJA = "E164"
E_DUPLICATE = "E165"
E_PROJECT = "E166"
E_PROPERTIES = "E167"
E_ENCODING = "E168"
E_OTHER = "E169"

_IN_NODE = re.compile(r"(?:Compilation|Parsing) Error in (\w+) (\S+) \(([^()\n]+)\)")
_FILE_IN_PARENS = re.compile(r"\(([^()\s]+\.(?:sql|py|yml|yaml|csv|md))\)")
_JINJA_LINE = re.compile(r"^\s*line (\d+)\s*$", re.MULTILINE)
_UNDEFINED = re.compile(r"'(\w+)' is undefined")
_VAR = re.compile(r"Required var '([^']+)' not found")
_CYCLE = re.compile(r"Found a cycle: (.+)")
#: dbt messages of a failed query: the project is fine, the data is not there yet.
_NEEDS_DATA = ("Runtime Error in ", "Database Error", "Catalog Error", "Binder Error")


def parse_errors(result: Any, project_dir: Path) -> InputError | None:
    """The InputError for a failed dbt invocation (a ``dbtRunnerResult`` or an exception)."""
    exc = result if isinstance(result, BaseException) else getattr(result, "exception", None)
    if exc is None:
        return None
    diagnostic = diagnose(exc, Path(project_dir))
    return None if diagnostic is None else InputError([diagnostic])


def diagnose(exc: BaseException, root: Path) -> Diagnostic | None:
    """One diagnostic for ``exc``; None when it needs data to be judged."""
    name = type(exc).__name__
    text = _text(exc)
    if isinstance(exc, UnicodeDecodeError):
        return Diagnostic(E_ENCODING, f"dbt could not read a project file: {exc}",
                          Location(str(root / "dbt_project.yml")), "",
                          "save every .sql/.yml file of the project as UTF-8")  # fmt: skip
    if name == "DuplicateResourceNameError":
        return _duplicate(exc, root)
    if name == "TargetNotFoundError":
        return _not_found(exc, root, text)
    if _is(exc, "DbtProjectError"):
        return _project(exc, root, text)
    if _is(exc, "ParsingError"):
        path = getattr(exc, "path", None) or _file_of(text) or "dbt_project.yml"
        return Diagnostic(E_PROPERTIES, f"dbt cannot parse the file: {_first(text)}",
                          Location(str(root / str(path))), "",
                          "fix the YAML to dbt's property-file layout "
                          "(https://docs.getdbt.com/reference/model-properties)")  # fmt: skip
    cycle = _CYCLE.search(text)
    if cycle:
        return Diagnostic(E_JINJA, f"dbt found a cycle among the nodes: {cycle.group(1).strip()}",
                          Location(str(root / "dbt_project.yml")), "",
                          "a model cannot read itself, directly or through others")  # fmt: skip
    if "Compilation Error" in text or _is(exc, "CompilationError"):
        return _compilation(exc, root, text)
    if any(marker in text for marker in _NEEDS_DATA):
        return None
    return Diagnostic(E_OTHER, f"dbt could not parse the project: {_first(text)}",
                      Location(str(root / "dbt_project.yml")), "",
                      "run 'dbt parse' in the project for dbt's full message")  # fmt: skip


def _is(exc: BaseException, cls_name: str) -> bool:
    return any(c.__name__ == cls_name for c in type(exc).__mro__)


def _text(exc: BaseException) -> str:
    return public_text(str(exc))


def _first(text: str) -> str:
    """The message without dbt's 'X Error' header line, on one line."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if lines and lines[0].endswith("Error") and len(lines) > 1:
        lines = lines[1:]
    return " ".join(lines)[:400]


def _file_of(text: str) -> str | None:
    found = _FILE_IN_PARENS.search(text)
    return found.group(1) if found else None


def _find(root: Path, rel: str, pattern: str) -> Location:
    """The first match of ``pattern`` in the file as a location (the file alone if none)."""
    path = root / rel
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return Location(str(path))
    regex = re.compile(pattern)
    for number, line in enumerate(lines, 1):
        hit = regex.search(line)
        if hit:
            return Location(str(path), number, hit.start() + 1)
    return Location(str(path))


def _duplicate(exc: BaseException, root: Path) -> Diagnostic:
    nodes = [getattr(exc, attr, None) for attr in ("node_1", "node_2")]
    paths = [str(getattr(n, "original_file_path", "?")) for n in nodes]
    kind = str(getattr(getattr(nodes[0], "resource_type", None), "value", "node"))
    name = str(getattr(nodes[0], "name", "?"))
    return Diagnostic(E_DUPLICATE, f"two dbt {kind}s are named '{name}': {' and '.join(paths)}",
                      Location(str(root / paths[-1])), "",
                      "dbt cannot tell them apart in ref(); rename one of them")  # fmt: skip


def _not_found(exc: BaseException, root: Path, text: str) -> Diagnostic:
    target = str(getattr(exc, "target_name", "?"))
    kind = str(getattr(exc, "target_kind", "node"))
    node = getattr(exc, "node", None)
    rel = str(getattr(node, "original_file_path", "") or _file_of(text) or "dbt_project.yml")
    if kind == "source":
        source, _, table = target.partition(".")
        where = _find(root, rel, rf"source\(\s*['\"]{re.escape(source)}['\"]")
        return Diagnostic(E_SOURCE, f"source('{source}', '{table}') is not declared",
                          where, "", f"declare table '{table}' under source '{source}' in a "
                          "sources: block of a .yml file in the model paths")  # fmt: skip
    where = _find(root, rel, rf"ref\(\s*(?:['\"][^'\"]+['\"]\s*,\s*)?['\"]{re.escape(target)}['\"]")
    disabled = " (it is disabled)" if getattr(exc, "disabled", False) else ""
    return Diagnostic(E_REF, f"ref('{target}') names no model, seed or snapshot{disabled}",
                      where, "", "check the name, or add the model; a package's models need "
                      "the package installed")  # fmt: skip


def _project(exc: BaseException, root: Path, text: str) -> Diagnostic:
    path = getattr(exc, "path", None) or str(root / "dbt_project.yml")
    message = _first(text).replace("Error encountered in " + str(path), "").strip()
    hint = "see https://docs.getdbt.com/reference/dbt_project.yml"
    if "no profile was specified" in text:
        message = "dbt_project.yml names no profile; dbt cannot run the project"
        hint = "add 'profile: <name>' to dbt_project.yml (floe writes that profile for it)"
    return Diagnostic(E_PROJECT, f"dbt rejects the project: {message}", Location(str(path)),
                      "", hint)  # fmt: skip


def _compilation(exc: BaseException, root: Path, text: str) -> Diagnostic | None:
    node = getattr(exc, "node", None)
    header = _IN_NODE.search(text)
    rel = getattr(node, "original_file_path", None) or (header.group(3) if header else None)
    rel = str(rel or _file_of(text) or "dbt_project.yml")
    undefined, var = _UNDEFINED.search(text), _VAR.search(text)
    if var:
        where = _find(root, rel, rf"var\(\s*['\"]{re.escape(var.group(1))}['\"]")
        return Diagnostic(E_VAR, f"var('{var.group(1)}') has no value and no default", where,
                          "", f"set '{var.group(1)}' under vars: in dbt_project.yml (or per "
                          "environment in floe.yaml), or give var() a default")  # fmt: skip
    if undefined:
        name = undefined.group(1)
        where = _find(root, rel, rf"\b{re.escape(name)}\s*\(")
        return Diagnostic(E_MACRO, f"macro or function '{name}' is not defined", where, "",
                          "check the name; define the macro under macro-paths, or install "
                          "the package that provides it")  # fmt: skip
    line = _JINJA_LINE.search(text)
    where = Location(str(root / rel), int(line.group(1)), 1) if line else Location(str(root / rel))
    return Diagnostic(E_JINJA, f"dbt cannot compile the Jinja: {_first(_strip_header(text))}",
                      where, "", "fix the Jinja at that line (https://jinja.palletsprojects.com"
                      "/en/stable/templates/)")  # fmt: skip


def _strip_header(text: str) -> str:
    """Drop dbt's 'Compilation Error in model a (models/a.sql)' and 'line N' lines."""
    keep = [ln for ln in text.splitlines()
            if not _IN_NODE.search(ln) and not _JINJA_LINE.match(ln)
            and ln.strip() not in ("Runtime Error", "Compilation Error")]  # fmt: skip
    return "\n".join(keep)
