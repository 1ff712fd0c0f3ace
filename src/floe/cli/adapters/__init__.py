"""The command line's adapters to third-party internals (one module per library)."""
