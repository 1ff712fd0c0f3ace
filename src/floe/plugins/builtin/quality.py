"""Quality: checks beyond dbt tests in the audit step of write–audit–publish.

``dbt`` (the default): a model's dbt tests are its audit, nothing else is declared.
``great_expectations``: the Great Expectations (GX 1.x) expectations a product declares per
model (floe.yaml ``quality.expectations``, or ``<model>.expectations.yml`` beside the model)
are validated on the model's scratch table once its dbt tests passed — an ephemeral GX
context, a pandas data source over the table, one expectation suite per model. GX is
imported only when a model has expectations (it takes seconds to import).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from floe.errors import FloeError, Location
from floe.plugins.abcs import QualityPlugin
from floe.plugins.base import HealthState, HealthStatus
from floe.plugins.records import CheckResult, QualityCheck

#: The GX 1.x core expectations that validate a pandas batch (the SQL-only ones —
#: query comparisons, unexpected-rows queries, another table's row count — are left out).
#: tests/unit/test_quality.py checks they are all registered by the installed GX.
GX_EXPECTATIONS: tuple[str, ...] = (
    "expect_column_distinct_values_to_be_in_set",
    "expect_column_distinct_values_to_contain_set",
    "expect_column_distinct_values_to_equal_set",
    "expect_column_kl_divergence_to_be_less_than",
    "expect_column_max_to_be_between",
    "expect_column_mean_to_be_between",
    "expect_column_median_to_be_between",
    "expect_column_min_to_be_between",
    "expect_column_most_common_value_to_be_in_set",
    "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_column_pair_values_to_be_equal",
    "expect_column_pair_values_to_be_in_set",
    "expect_column_proportion_of_non_null_values_to_be_between",
    "expect_column_proportion_of_unique_values_to_be_between",
    "expect_column_quantile_values_to_be_between",
    "expect_column_stdev_to_be_between",
    "expect_column_sum_to_be_between",
    "expect_column_to_exist",
    "expect_column_type_to_be",
    "expect_column_unique_value_count_to_be_between",
    "expect_column_value_lengths_to_be_between",
    "expect_column_value_lengths_to_equal",
    "expect_column_value_z_scores_to_be_less_than",
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_dateutil_parseable",
    "expect_column_values_to_be_decreasing",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_be_in_type_list",
    "expect_column_values_to_be_increasing",
    "expect_column_values_to_be_json_parseable",
    "expect_column_values_to_be_null",
    "expect_column_values_to_be_of_type",
    "expect_column_values_to_be_unique",
    "expect_column_values_to_match_json_schema",
    "expect_column_values_to_match_like_pattern",
    "expect_column_values_to_match_like_pattern_list",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_match_regex_list",
    "expect_column_values_to_match_strftime_format",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_not_be_outliers",
    "expect_column_values_to_not_match_like_pattern",
    "expect_column_values_to_not_match_like_pattern_list",
    "expect_column_values_to_not_match_regex",
    "expect_column_values_to_not_match_regex_list",
    "expect_compound_columns_to_be_unique",
    "expect_multicolumn_sum_to_equal",
    "expect_multicolumn_values_to_be_equal",
    "expect_select_column_values_to_be_unique_within_record",
    "expect_table_column_count_to_be_between",
    "expect_table_column_count_to_equal",
    "expect_table_columns_to_match_ordered_list",
    "expect_table_columns_to_match_set",
    "expect_table_row_count_to_be_between",
    "expect_table_row_count_to_equal",
)
E_NO_GX = "E655"
INSTALL = "pip install 'floe-platform[quality]'"
INDEX = "floe_check"  # the meta key that maps a GX result back to its check


class DbtQualityConfig(BaseModel):
    """``dbt`` takes no settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DbtQualityPlugin(QualityPlugin[DbtQualityConfig]):
    """dbt's tests, run by ``dbt build``, are the whole audit: no further checks."""

    name: ClassVar[str] = "dbt"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "dbt tests only (the audit of dbt build)"

    def check_names(self) -> list[str]:
        """None: dbt tests are declared in the dbt project."""
        return []

    def validate(self, table: str, data: Any, checks: Sequence[QualityCheck]) -> list[CheckResult]:
        """Nothing beyond dbt's tests (compile accepts no declared checks for this plugin)."""
        return [CheckResult(c, False, "the 'dbt' quality plugin runs no declared checks")
                for c in checks]  # fmt: skip


class GreatExpectationsConfig(BaseModel):
    """Settings of the Great Expectations plugin."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unexpected_examples: int = Field(
        default=5, ge=0, le=100, description="Unexpected values quoted per failed expectation."
    )


class GreatExpectationsQualityPlugin(QualityPlugin[GreatExpectationsConfig]):
    """Great Expectations 1.x expectation suites validated on the scratch table."""

    name: ClassVar[str] = "great_expectations"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "Great Expectations (GX 1.x) suites per model, before publish"

    def check_names(self) -> list[str]:
        """The GX core expectation types that validate a pandas batch."""
        return list(GX_EXPECTATIONS)

    def validate(self, table: str, data: Any, checks: Sequence[QualityCheck]) -> list[CheckResult]:
        """One suite of ``checks`` validated by an ephemeral GX context on ``data`` (a
        pyarrow Table, as a pandas DataFrame); expectations GX refuses (bad arguments) are
        failed results naming the problem."""
        if not checks:
            return []
        gx = _import_gx()
        results: dict[int, CheckResult] = {}
        valid: list[dict[str, Any]] = []
        for i, check in enumerate(checks):
            entry = {"type": check.type, "kwargs": dict(check.kwargs), "meta": {INDEX: i}}
            try:
                gx.ExpectationSuite(name=f"{table}-probe", expectations=[entry])
            except Exception as exc:  # GX's own account of bad arguments is the result
                results[i] = CheckResult(check, False, f"invalid expectation: {_problems(exc)}")
                continue
            valid.append(entry)
        if valid:
            for index, ok, detail in self._run(gx, table, data, valid):
                results[index] = CheckResult(checks[index], ok, detail)
        return [results[i] for i in range(len(checks))]

    def _run(
        self, gx: Any, table: str, data: Any, expectations: list[dict[str, Any]]
    ) -> list[tuple[int, bool, str]]:
        context = gx.get_context(mode="ephemeral", project_config=_context_config())
        asset = context.data_sources.add_pandas("floe").add_dataframe_asset(table)
        batch = asset.add_batch_definition_whole_dataframe("scratch").get_batch(
            batch_parameters={"dataframe": data.to_pandas()}
        )
        suite = gx.ExpectationSuite(name=table, expectations=expectations)
        outcome = batch.validate(suite)
        out = []
        for result in outcome.results:
            index = int(result.expectation_config.meta[INDEX])
            out.append((index, bool(result.success), self._detail(result)))
        return out

    def _detail(self, result: Any) -> str:
        """Why an expectation failed (unexpected counts and examples, the observed value, or
        the exception GX caught); '' when it passed."""
        if result.success:
            return ""
        info = result.exception_info or {}
        if info.get("raised_exception"):
            return f"could not be evaluated: {_first_line(info.get('exception_message'))}"
        found = result.result or {}
        if "unexpected_count" in found:
            examples = list(found.get("partial_unexpected_list") or [])
            shown = examples[: self.config.unexpected_examples]
            return (
                f"{found['unexpected_count']} of {found.get('element_count')} values "
                f"unexpected, e.g. {shown}"
            )
        if "observed_value" in found:
            return f"observed {found['observed_value']!r}"
        return "failed"

    def health_check(self) -> HealthStatus:
        """Great Expectations is installed (found without importing it: that takes seconds)."""
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("great-expectations")
        except PackageNotFoundError:
            return HealthStatus(HealthState.UNHEALTHY, f"great-expectations missing: {INSTALL}")
        return HealthStatus(HealthState.HEALTHY, f"great-expectations {found}")


def _import_gx() -> Any:
    """great_expectations, or an error printing the install line."""
    try:
        import great_expectations as gx
    except ImportError as exc:
        raise FloeError.single(
            E_NO_GX,
            f"the great_expectations quality plugin needs Great Expectations ({exc})",
            Location("manifest.yaml"),
            field_path="plugins.quality.type",
            hint=INSTALL,
        ) from None
    return gx


def _context_config() -> Any:
    """An in-memory GX context: no data docs site, no analytics, no progress bars."""
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    return DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )


def _problems(exc: Exception) -> str:
    """GX's account of refused arguments: each ``argument: problem`` of its pydantic error."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return _first_line(exc)
    parts = []
    for err in errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
        parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return "; ".join(parts)


def _first_line(exc: object) -> str:
    text = str(exc or "").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines[:4])[:300] or type(exc).__name__
