"""How floe reads a seed for Spark (issue 13): dbt's own agate reading and dbt-spark's types,
and which seeds it leaves to dbt — without a JVM (the e2e test loads them into Spark)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from floe.runtime.dbt_graph import DbtNode, Relation

CSV = (
    "id,amount,flag,day,at,label,code,big\n"
    "1,1.5,true,2024-01-02,2024-01-02T03:04:05,a b,007,9007199254740993\n"
    ",,null,,,,,\n"
    "3,2,false,2024-02-29,2024-02-29T23:59:59.5,null,010,-1\n"
)


@pytest.mark.requirement("FLOE-371")
def test_a_seed_is_read_as_dbt_reads_it_typed_as_dbt_spark_types_it(tmp_path: Path) -> None:
    """agate's inference through dbt's type tester (``""`` and ``null`` are nulls, ``true``/
    ``false`` booleans, a column_types column stays text), dbt-spark's ``convert_type`` for
    the others; the Arrow columns hold agate's values exactly (2^53 + 1 stays exact)."""
    from floe.runtime.adapters.dbt_seed import agate_kinds, read_seed, spark_column_types
    from floe.runtime.spark.seeds import _arrow

    path = tmp_path / "s.csv"
    path.write_text(CSV.replace(",", ";"))
    overrides = {"code": "string"}
    table = read_seed(path, overrides, ";")
    assert agate_kinds(table) == ["number", "number", "boolean", "date", "datetime", "text",
                                  "text", "number"]  # fmt: skip
    types = spark_column_types(table, overrides)
    assert types == ["bigint", "double", "boolean", "date", "timestamp", "string", "string",
                     "bigint"]  # fmt: skip
    rows = _arrow(table, types).to_pylist()
    assert rows[0] == {"c0": 1, "c1": 1.5, "c2": True, "c3": date(2024, 1, 2),
                       "c4": datetime(2024, 1, 2, 3, 4, 5), "c5": "a b", "c6": "007",
                       "c7": 9007199254740993}  # fmt: skip
    assert set(rows[1].values()) == {None}
    assert (rows[2]["c4"], rows[2]["c5"], rows[2]["c6"]) == (
        datetime(2024, 2, 29, 23, 59, 59, 500000), None, "010",
    )  # fmt: skip


def _seed(tmp_path: Path, package: str = "proj", **config: object) -> DbtNode:
    (tmp_path / "seeds").mkdir(exist_ok=True)
    (tmp_path / "seeds" / "s.csv").write_text("a\n1\n")
    return DbtNode("seed.proj.s", "s", "seed", "seed", Relation("", "main", "s"),
                   "seeds/s.csv", package, config=config)  # fmt: skip


@pytest.mark.requirement("FLOE-372")
def test_seeds_floe_does_not_reproduce_are_left_to_dbt_with_the_reason(tmp_path: Path) -> None:
    """Hooks, grants, partitioning, another file format, a package's seed, a missing file:
    dbt's path, with why; a plain seed and an explicit parquet format: floe's."""
    from floe.runtime.spark.seeds import fallback_reason

    def reason(**kw: object) -> str | None:
        package = str(kw.pop("package", "proj"))
        return fallback_reason(_seed(tmp_path, package, **kw), tmp_path, "proj")

    assert reason() is None
    assert reason(file_format="parquet", grants={}) is None
    assert reason(**{"post-hook": [{"sql": "select 1"}]}) == "its post-hook config"
    assert reason(grants={"select": ["x"]}) == "its grants config"
    assert reason(partition_by=["a"]) == "its partition_by config"
    assert reason(file_format="delta") == "file_format delta"
    assert reason(package="dep") == "a seed of the package dep"
    (tmp_path / "seeds" / "s.csv").unlink()
    assert fallback_reason(_seed(tmp_path), tmp_path / "elsewhere", "proj") == (
        "seeds/s.csv not found"
    )


@pytest.mark.requirement("FLOE-372")
def test_values_floe_cannot_give_exactly_send_the_seed_to_dbt(tmp_path: Path) -> None:
    """A timestamp with a time zone and an integer beyond 64 bits raise floe's internal
    'dbt only' signal (the seed then goes through dbt-spark)."""
    from floe.runtime.adapters.dbt_seed import read_seed, spark_column_types
    from floe.runtime.spark.seeds import _arrow, _DbtOnly

    for text, why in (("2024-01-02T03:04:05+02:00", "time zone"),
                      ("99999999999999999999", "64 bits")):  # fmt: skip
        path = tmp_path / "t.csv"
        path.write_text(f"v\n{text}\n")
        table = read_seed(path, {}, ",")
        with pytest.raises(_DbtOnly, match=why):
            _arrow(table, spark_column_types(table, {}))
