"""Dagster: each data product is a code location built from its compiled artifacts."""
