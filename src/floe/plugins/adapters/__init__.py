"""Third-party internals the plugins layer needs, one adapter each (tests/unit/test_adapters.py)."""
