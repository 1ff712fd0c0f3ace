"""Every private (or undocumented) API of a third-party library that the runtime relies on,
one module per library (docs/architecture.md, "Adapters").

Nothing else in floe touches these internals: it calls the adapter. tests/unit/test_adapters.py
exercises each of them against the installed version, so an upgrade that changes one fails
there, naming the library, its version and the adapter, instead of deep inside a run.
"""
