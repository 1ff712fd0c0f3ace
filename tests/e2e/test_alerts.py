"""A failed run alerts through the alert_channel plugin (webhook → a local HTTP server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from floe.app.run import run
from tests.conftest import write_failing_tiny
from tests.e2e.servers import free_port, webhook_receiver


def _failing_product(root: Path, url: str) -> Path:
    return write_failing_tiny(
        root, f"{{type: webhook, config: {{url: '{url}', timeout_seconds: 2}}}}"
    )


@pytest.mark.requirement("FR-027")
def test_failed_run_alert_reaches_the_webhook(tmp_path: Path) -> None:
    """The alert carries the product, the Dagster run id and the failing model and test."""
    with webhook_receiver() as (url, received):
        summary = run(_failing_product(tmp_path / "tiny", url))
    assert not summary.success
    assert len(received) == 1
    alert = received[0]
    assert alert["event"] == "floe.run.failed"
    assert alert["product"] == "tiny"
    assert alert["run_id"] == summary.run_id
    assert alert["failed_models"] == ["int_orders"]
    assert alert["failed_tests"] == ["accepted_values_int_orders_amount__2"]
    assert alert["skipped"] == ["mart_revenue"]


@pytest.mark.requirement("FR-046")
def test_unreachable_webhook_does_not_change_the_run_outcome(tmp_path: Path) -> None:
    """A closed port: the run still fails for its own reason, reported as usual."""
    url = f"http://127.0.0.1:{free_port()}/hook"
    summary = run(_failing_product(tmp_path / "tiny", url))
    assert not summary.success
    assert "int_orders: test_failed" in summary.failure
