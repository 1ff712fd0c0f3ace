"""The use cases: what the CLI commands and the Dagster code location ask floe to do.

Each use case loads the product's files once (:mod:`floe.app.product`), resolves the
platform's plugins once into the object the run holds, reads the live schema with the same
warning handling for compile and run, and hands the artifacts to Dagster in memory. The CLI
only declares commands and prints what these return.
"""
