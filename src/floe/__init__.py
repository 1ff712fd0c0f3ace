"""floe — an open data platform.

One ``manifest.yaml`` per platform, one ``floe.yaml`` per data product; ``floe compile`` turns
both into deterministic ``CompiledArtifacts`` that drive dbt on DuckDB, Apache Iceberg tables
and Dagster.
"""

#: The single source of the version (pyproject reads it from here; importing
#: importlib.metadata just for this would cost 40 ms on every command).
__version__ = "0.1.0"

__all__ = ["__version__"]
