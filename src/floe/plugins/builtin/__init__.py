"""floe's own plugins, registered through entry points in pyproject.toml like any other."""
