"""Observability of runs: OpenTelemetry traces, OpenLineage events, Prometheus metrics, logs.

Everything here is best effort and bounded in time: a dead or hanging backend costs a run at
most a fraction of a second and one warning, never its success.
"""
