"""Dagster APIs outside its documented surface that orchestration relies on, behind one
module (docs/architecture.md, "Adapters"); tests/unit/test_adapters.py checks them against the
installed version."""
