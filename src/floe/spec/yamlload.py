"""Safe YAML loading that remembers where every value came from.

The document is composed into nodes by libyaml (when available) and constructed here, so that
we can: record ``(line, col)`` for every key and value, reject duplicate keys, bound alias
expansion (billion-laughs) and report every problem as a located :class:`Diagnostic`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from floe.errors import Diagnostic, FloeError, InputError, Location

#: Upper bound on constructed values, aliases included: far above any real config file,
#: far below what an alias bomb expands to.
MAX_NODES = 200_000
#: Upper bound on nesting depth (a recursive alias never ends).
MAX_DEPTH = 64
#: Upper bound on file size.
MAX_BYTES = 16 * 1024 * 1024

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR_TAG = "tag:yaml.org,2002:str"

PathKey = tuple[str | int, ...]

E_FILE = "E100"
E_SYNTAX = "E101"
E_DUPLICATE = "E102"
E_ALIAS = "E103"
E_ROOT = "E104"


@dataclass
class YamlDocument:
    """A loaded YAML file: its data and where each value and key is."""

    path: Path
    data: dict[str, Any]
    text: str
    value_marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def location(self, path: PathKey, *, key: bool = False) -> Location:
        """The closest known location of ``path`` (falls back to its parents)."""
        marks = self.key_marks if key else self.value_marks
        probe = tuple(path)
        while probe:
            if probe in marks:
                line, col = marks[probe]
                return Location(str(self.path), line, col)
            if not key and probe in self.key_marks:
                line, col = self.key_marks[probe]
                return Location(str(self.path), line, col)
            probe = probe[:-1]
        line, col = self.value_marks.get((), (1, 1))
        return Location(str(self.path), line, col)


class _Builder:
    """Constructs Python values from composed nodes, tracking marks and a node budget."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.value_marks: dict[PathKey, tuple[int, int]] = {}
        self.key_marks: dict[PathKey, tuple[int, int]] = {}
        self.errors: list[Diagnostic] = []
        self._scalar = yaml.SafeLoader("")

    def loc(self, node: yaml.Node) -> Location:
        return Location(str(self.path), node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise InputError.single(
                E_ALIAS,
                f"the document expands to more than {MAX_NODES} values "
                "(recursive or exponential aliases, a 'billion laughs' document)",
                self.loc(node),
                hint="remove the nested '&anchor'/'*alias' chain; floe files never need it",
            )
        if len(path) > MAX_DEPTH:
            raise InputError.single(
                E_ALIAS,
                f"the document nests deeper than {MAX_DEPTH} levels (a recursive alias?)",
                self.loc(node),
                hint="remove the self-referencing '&anchor'/'*alias'",
            )
        self.value_marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if node.tag == _STR_TAG:  # most values: what PyYAML's constructor would return
            return node.value
        return self._scalar.construct_object(node, deep=True)

    def _pairs(self, node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
        """Key/value node pairs with YAML merge keys (``<<``) expanded, explicit keys winning."""
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        own: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                for src in sources:
                    if isinstance(src, yaml.MappingNode):
                        merged.extend(self._pairs(src))
            else:
                own.append((key_node, value_node))
        own_keys = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
        return [(k, v) for k, v in merged if k.value not in own_keys] + own

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, yaml.Node] = {}
        for key_node, value_node in self._pairs(node):
            key = self.build(key_node, (*path, "<key>"))
            if not isinstance(key, str | int | float | bool) or key is None:
                self.errors.append(
                    Diagnostic(E_SYNTAX, "mapping keys must be plain scalars", self.loc(key_node))
                )
                continue
            key = str(key)
            if key in first_seen:
                first = first_seen[key]
                self.errors.append(
                    Diagnostic(
                        E_DUPLICATE,
                        f"duplicate key '{key}' (first defined at line "
                        f"{first.start_mark.line + 1})",
                        self.loc(key_node),
                        field_path=dotted((*path, key)),
                        hint="YAML keeps only the last value; remove or merge one of them",
                    )
                )
                continue
            first_seen[key] = key_node
            child = (*path, key)
            self.key_marks[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = self.build(value_node, child)
        return result


def dotted(path: PathKey) -> str:
    """``a.b[0].c`` for a document path."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_yaml(path: Path, *, what: str = "file") -> YamlDocument:
    """Read, compose and construct ``path``; every problem raises :class:`InputError`."""
    text = _read(path, what)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(path, exc) from None
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        raise InputError.single(E_SYNTAX, f"invalid YAML: {exc}", Location(str(path))) from None
    if node is None or not isinstance(node, yaml.MappingNode):
        kind = "empty" if node is None else type(node).__name__.replace("Node", "").lower()
        raise InputError.single(
            E_ROOT,
            f"the {what} must be a mapping of keys to values (got {kind} document)",
            Location(str(path), 1, 1),
            hint="start the file with 'apiVersion: floe.dev/v1' and 'kind: ...'",
        )
    builder = _Builder(path)
    data = builder.build(node, ())
    if builder.errors:
        raise InputError(builder.errors)
    return YamlDocument(path, data, text, builder.value_marks, builder.key_marks)


def _read(path: Path, what: str) -> str:
    try:
        if path.is_dir():
            raise IsADirectoryError(str(path))
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError.single(
                E_FILE, f"the {what} is {size} bytes, larger than {MAX_BYTES}", Location(str(path))
            )
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError.single(
            E_FILE,
            f"{what} not found",
            Location(str(path)),
            hint="check the path; floe looks for it relative to the product directory",
        ) from None
    except IsADirectoryError:
        raise InputError.single(
            E_FILE, f"expected a {what}, found a directory", Location(str(path))
        ) from None
    except PermissionError:
        raise InputError.single(
            E_FILE,
            f"cannot read the {what}: permission denied",
            Location(str(path)),
            hint="make the file readable by the user running floe",
        ) from None
    except UnicodeDecodeError as exc:
        raise InputError.single(
            E_FILE, f"the {what} is not UTF-8 text ({exc.reason})", Location(str(path))
        ) from None


def _syntax_error(path: Path, exc: yaml.MarkedYAMLError) -> FloeError:
    mark = exc.problem_mark or exc.context_mark
    loc = Location(str(path), mark.line + 1, mark.column + 1) if mark else Location(str(path))
    problem = exc.problem or "invalid YAML"
    context = f" ({exc.context})" if exc.context else ""
    hint = "check indentation and quoting; tabs are not allowed for indentation"
    if "found character '\\t'" in problem:
        hint = "replace the tab with spaces"
    return InputError.single(E_SYNTAX, f"YAML syntax error: {problem}{context}", loc, hint=hint)
