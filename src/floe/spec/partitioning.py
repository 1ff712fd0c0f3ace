"""A model's table layout: dbt config ``partition_by`` (Iceberg transforms) and ``sort_by``.

The config a dbt model, seed or snapshot may carry (a string or a list of strings)::

    partition_by: ['day(order_ts)', 'bucket(16, customer_id)', 'region']
    sort_by: ['order_ts desc', 'customer_id']

Transforms: a bare column (identity; ``identity(col)`` too), ``year|month|day|hour(col)`` (and
dbt-spark's plurals ``years|months|days|hours(col)``, so the same config works on Spark),
``bucket(n, col)`` and ``truncate(w, col)`` (n, w positive integers; ``(col, n)`` is read too).
``sort_by`` entries are a column with an optional ``asc``/``desc``.

Pure text: no PyIceberg here. Every value has one canonical spelling (:attr:`PartitionField.text`,
``day(order_ts)``, ``bucket(16, id)``) used by compile, publish, ``floe tables show`` and the
breaking-change gate alike; :func:`from_iceberg` reads Iceberg's own spelling (``bucket[16]``).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

E_LAYOUT = "E215"
E_LAYOUT_COLUMN = "E216"

TIME_TRANSFORMS = ("year", "month", "day", "hour")
#: dbt-spark spells the time transforms in the plural (Spark's Iceberg DDL).
_ALIASES = {"years": "year", "months": "month", "days": "day", "hours": "hour"}
_WIDTH_TRANSFORMS = ("bucket", "truncate")
TRANSFORMS = ("identity", *TIME_TRANSFORMS, *_WIDTH_TRANSFORMS)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CALL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)$", re.DOTALL)
_ICEBERG = re.compile(r"^([a-z]+)(?:\[(\d+)\])?$")

_SYNTAX_HINT = (
    "use a column (identity), year|month|day|hour(col), bucket(n, col) or truncate(w, col); "
    "e.g. partition_by=['day(order_ts)', 'bucket(16, id)']"
)


class LayoutError(ValueError):
    """An invalid ``partition_by``/``sort_by`` value: the code, what is wrong, how to fix it."""

    def __init__(self, code: str, message: str, hint: str, key: str = "partition_by") -> None:
        super().__init__(message)
        self.code, self.message, self.hint, self.key = code, message, hint, key


class PartitionField(NamedTuple):
    """One partition field: an Iceberg transform of a source column."""

    transform: str  # one of TRANSFORMS
    column: str
    width: int | None = None  # bucket count / truncate width

    @property
    def text(self) -> str:
        """The canonical config spelling: ``order_ts``, ``day(order_ts)``, ``bucket(16, id)``."""
        if self.transform == "identity":
            return self.column
        if self.width is not None:
            return f"{self.transform}({self.width}, {self.column})"
        return f"{self.transform}({self.column})"

    @property
    def iceberg(self) -> str:
        """Iceberg's transform string: ``identity``, ``day``, ``bucket[16]``, ``truncate[4]``."""
        return f"{self.transform}[{self.width}]" if self.width is not None else self.transform


class SortField(NamedTuple):
    """One sort key: a column, ascending unless ``descending``."""

    column: str
    descending: bool = False

    @property
    def text(self) -> str:
        """``col`` or ``col desc``."""
        return f"{self.column} desc" if self.descending else self.column


class Layout(NamedTuple):
    """The partition spec and sort order a table should have."""

    partition_by: tuple[PartitionField, ...] = ()
    sort_by: tuple[SortField, ...] = ()

    @property
    def partition_text(self) -> str:
        """``day(order_ts), bucket(16, id)`` or ``unpartitioned``."""
        return ", ".join(f.text for f in self.partition_by) or "unpartitioned"

    @property
    def sort_text(self) -> str:
        """``order_ts desc, id`` or ``unsorted``."""
        return ", ".join(f.text for f in self.sort_by) or "unsorted"

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the layout names, in order, once."""
        names = [f.column for f in self.partition_by] + [f.column for f in self.sort_by]
        return tuple(dict.fromkeys(names))

    def same_partitioning(self, other: Layout) -> bool:
        """The same partition fields (in any order: an evolution keeps the old fields first)."""
        return set(self.partition_by) == set(other.partition_by)


def layout_of(config: Any) -> Layout:
    """The layout of a dbt node config (a mapping with ``partition_by``/``sort_by``)."""
    if not isinstance(config, dict):
        return Layout()
    return Layout(
        parse_partition_by(config.get("partition_by")), parse_sort_by(config.get("sort_by"))
    )


def _items(value: Any, key: str) -> list[str]:
    """A string (split at top-level commas) or a list of strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return _split(value)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return [part for v in value for part in _split(v)]
    raise LayoutError(
        E_LAYOUT,
        f"{key} must be a string or a list of strings (got {type(value).__name__}: {value!r})",
        _SYNTAX_HINT if key == "partition_by" else "e.g. sort_by=['order_ts desc', 'id']",
        key,
    )


def _split(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _column(text: str, what: str, key: str = "partition_by") -> str:
    name = text.strip().strip('"`')
    if not _IDENT.match(name):
        raise LayoutError(
            E_LAYOUT, f"'{text.strip()}' in {what} is not a column name", _SYNTAX_HINT, key
        )
    return name


def parse_partition_by(value: Any) -> tuple[PartitionField, ...]:
    """The partition fields of a ``partition_by`` config value (LayoutError when invalid)."""
    fields = [_partition_field(item) for item in _items(value, "partition_by")]
    seen: dict[str, PartitionField] = {}
    for i, f in enumerate(fields):
        if f in fields[:i]:
            raise LayoutError(E_LAYOUT, f"{f.text} is named twice", "remove one of them")
        if f.transform in TIME_TRANSFORMS:
            other = seen.get(f.column)
            if other is not None:
                raise LayoutError(
                    E_LAYOUT,
                    f"two time transforms of '{f.column}': {other.text} and {f.text}",
                    "keep one (Iceberg allows one of year/month/day/hour per column)",
                )
            seen[f.column] = f
    return tuple(fields)


def _partition_field(item: str) -> PartitionField:
    call = _CALL.match(item)
    if call is None:
        return PartitionField("identity", _column(item, f"'{item}'"))
    name, args = call.group(1).lower(), _split(call.group(2))
    transform = _ALIASES.get(name, name)
    if transform not in TRANSFORMS:
        raise LayoutError(
            E_LAYOUT,
            f"unknown transform '{call.group(1)}' in '{item}' (known: "
            f"{', '.join(TRANSFORMS)}, and the plurals years/months/days/hours)",
            _SYNTAX_HINT,
        )
    arity = 2 if transform in _WIDTH_TRANSFORMS else 1
    if len(args) != arity:
        usage = f"{transform}(n, col)" if arity == 2 else f"{transform}(col)"
        raise LayoutError(
            E_LAYOUT,
            f"{transform}() takes {arity} argument{'s' * (arity > 1)}, got {len(args)} in '{item}'",
            f"write {usage}",
        )
    if arity == 1:
        return PartitionField(transform, _column(args[0], f"'{item}'"))
    number, column = (args[1], args[0]) if _is_int(args[1]) and not _is_int(args[0]) else args
    if not _is_int(number) or int(number) <= 0:
        what = "bucket count" if transform == "bucket" else "truncate width"
        raise LayoutError(
            E_LAYOUT,
            f"the {what} of '{item}' must be a positive integer (got "
            f"'{number}')",
            f"write {transform}(16, {column.strip()})" if transform == "bucket"
            else f"write {transform}(4, {column.strip()})",
        )  # fmt: skip
    return PartitionField(transform, _column(column, f"'{item}'"), int(number))


def _is_int(text: str) -> bool:
    return re.fullmatch(r"[+-]?\d+", text.strip()) is not None


def parse_sort_by(value: Any) -> tuple[SortField, ...]:
    """The sort keys of a ``sort_by`` config value (LayoutError when invalid)."""
    out: list[SortField] = []
    for item in _items(value, "sort_by"):
        words = item.split()
        direction = words[1].lower() if len(words) == 2 else "asc"
        if len(words) not in (1, 2) or direction not in ("asc", "desc"):
            raise LayoutError(
                E_LAYOUT,
                f"'{item}' is not a column with an optional asc/desc",
                "e.g. sort_by=['order_ts desc', 'id']",
                "sort_by",
            )
        field = SortField(_column(words[0], f"'{item}'", "sort_by"), direction == "desc")
        if any(f.column == field.column for f in out):
            raise LayoutError(
                E_LAYOUT, f"'{field.column}' is named twice", "remove one of them", "sort_by"
            )
        out.append(field)
    return tuple(out)


def from_iceberg(transform: str, column: str) -> PartitionField | None:
    """A partition field from Iceberg's spelling (``day``, ``bucket[16]``); None for ``void``
    (a field a format-v1 table dropped) and transforms floe does not write."""
    match = _ICEBERG.match(transform.strip())
    if match is None or match.group(1) not in TRANSFORMS:
        return None
    width = int(match.group(2)) if match.group(2) else None
    return PartitionField(match.group(1), column, width)


def check_columns(layout: Layout, columns: list[str] | tuple[str, ...]) -> str | None:
    """The first column ``layout`` names that ``columns`` lacks (case-insensitive), or None."""
    known = {c.lower() for c in columns}
    return next((c for c in layout.columns if c.lower() not in known), None)
