"""Running products: dbt on DuckDB, Iceberg publishing, the platform home."""
