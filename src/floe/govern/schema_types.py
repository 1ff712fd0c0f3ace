"""One spelling for column types, so DuckDB/dbt types and Iceberg types can be compared."""

from __future__ import annotations

import re

_ALIASES = {
    "bigint": "long", "int8": "long", "long": "long", "int64": "long",
    "integer": "int", "int": "int", "int4": "int", "int32": "int",
    "smallint": "int", "int2": "int", "tinyint": "int",
    "varchar": "string", "text": "string", "string": "string", "char": "string",
    "bpchar": "string", "nvarchar": "string", "uuid": "uuid",
    "double": "double", "float8": "double", "double precision": "double",
    "float": "float", "float4": "float", "real": "float",
    "boolean": "boolean", "bool": "boolean",
    "date": "date", "time": "time",
    "timestamp": "timestamp", "datetime": "timestamp", "timestamp_ns": "timestamp",
    "timestamp_us": "timestamp", "timestamp_ms": "timestamp",
    "timestamptz": "timestamptz", "timestamp with time zone": "timestamptz",
    "blob": "binary", "binary": "binary", "varbinary": "binary", "bytea": "binary",
}  # fmt: skip
_DECIMAL = re.compile(r"^(?:decimal|numeric)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$")
#: Type changes Iceberg can apply in place (the spec's allowed promotions).
_WIDENINGS = {("int", "long"), ("float", "double")}


def canonical(type_text: str | None) -> str | None:
    """``BIGINT`` → ``long``, ``DECIMAL(18,2)`` → ``decimal(18,2)``; unknown → None."""
    if not type_text:
        return None
    text = " ".join(type_text.strip().lower().split())
    text = re.sub(r"\(\s*\d+\s*\)$", "", text) if text.startswith(("varchar", "char")) else text
    match = _DECIMAL.match(text)
    if match:
        precision = int(match.group(1) or 18)
        scale = int(match.group(2) or 0) if match.group(1) else 3
        return f"decimal({precision},{scale})"
    return _ALIASES.get(text)


def is_widening(old: str, new: str) -> bool:
    """Whether ``old`` → ``new`` is a promotion Iceberg allows (int→long, float→double,
    decimal(P,S)→decimal(P',S) with P' ≥ P)."""
    if (old, new) in _WIDENINGS:
        return True
    a, b = _DECIMAL.match(old), _DECIMAL.match(new)
    if a and b and a.group(1) and b.group(1):
        return a.group(2) == b.group(2) and int(b.group(1)) >= int(a.group(1))
    return False


def is_narrowing(old: str, new: str) -> bool:
    """The reverse of a widening (long→int, double→float, a smaller decimal)."""
    return is_widening(new, old) and old != new
