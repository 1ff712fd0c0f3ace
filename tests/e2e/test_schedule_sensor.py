"""The product's schedule comes from floe.yaml; the health sensor starts the first run only."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from floe.compile.api import compile_product
from floe.orchestrate.definitions import build_definitions
from floe.runtime.home import PlatformHome
from tests.conftest import TINY_SPEC, write_tiny


def _defs(product: Path) -> dg.Definitions:
    ctx = compile_product(product)
    assert ctx.manifest_doc is not None
    home = PlatformHome.for_manifest(ctx.manifest_doc.path)
    home.ensure()
    return build_definitions(product.resolve(), ctx.options.output_dir.resolve(), home)


@pytest.mark.requirement("FR-030")
def test_schedule_follows_floe_yaml_and_enabled_false_is_honoured(tmp_path: Path) -> None:
    """cron and timezone from floe.yaml; `enabled: false` → the schedule starts stopped."""
    spec = TINY_SPEC + 'schedule:\n  cron: "*/15 * * * *"\n  timezone: Europe/Berlin\n'
    product = write_tiny(tmp_path / "on", spec=spec + "  enabled: true\n")
    schedule = _defs(product).resolve_schedule_def("tiny_schedule")
    assert schedule.cron_schedule == "*/15 * * * *"
    assert schedule.execution_timezone == "Europe/Berlin"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "tiny_job"
    off = write_tiny(tmp_path / "off", spec=spec + "  enabled: false\n")
    assert _defs(off).resolve_schedule_def("tiny_schedule").default_status == (
        dg.DefaultScheduleStatus.STOPPED
    )
    default = write_tiny(tmp_path / "default")
    assert _defs(default).resolve_schedule_def("tiny_schedule").cron_schedule == "*/10 * * * *"


@pytest.mark.requirement("FR-029")
@pytest.mark.requirement("GAP-001")
@pytest.mark.requirement("WU3-AC6")
@pytest.mark.requirement("WU3-BC3")
@pytest.mark.requirement("WU3-AC5")
@pytest.mark.requirement("15-FR-009")
def test_health_sensor_requests_the_first_run_then_skips(tmp_path: Path) -> None:
    """Every sensor of the code location names its job explicitly (the product's job); on a
    healthy, empty platform the health sensor yields one RunRequest; that run succeeds; once
    models are materialized the sensor skips, saying why."""
    product = write_tiny(tmp_path / "tiny")
    defs = _defs(product)
    sensors = {s.name: (s.job_name, s.has_jobs) for s in defs.sensors or []}  # type: ignore[union-attr]
    assert sensors == {"tiny_health_sensor": ("tiny_job", True),
                       "tiny_raw_data_sensor": ("tiny_job", True)}  # fmt: skip
    sensor = defs.resolve_sensor_def("tiny_health_sensor")
    with dg.DagsterInstance.ephemeral() as instance:
        first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        assert [r.run_key for r in first.run_requests or []] == ["tiny-first-run"]
        job = defs.resolve_job_def("tiny_job")
        result = job.execute_in_process(instance=instance, tags={"floe/trigger": "health"})
        assert result.success
        second = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        assert second.run_requests == []
        assert second.skip_message == "3 of 3 models already materialized"


@pytest.mark.requirement("FR-029")
def test_health_sensor_waits_while_the_platform_is_unhealthy(tmp_path: Path) -> None:
    """A warehouse that cannot be written: no RunRequest, the skip reason names the check."""
    product = write_tiny(tmp_path / "tiny")
    defs = _defs(product)
    warehouse = tmp_path / "tiny" / ".floe" / "warehouse"
    warehouse.rmdir()
    warehouse.write_text("not a directory")
    with dg.DagsterInstance.ephemeral() as instance:
        tick = defs.resolve_sensor_def("tiny_health_sensor").evaluate_tick(
            dg.build_sensor_context(instance=instance)
        )
    assert tick.run_requests == []
    assert tick.skip_message is not None
    assert tick.skip_message.startswith("platform not healthy: ")
    assert f"warehouse: {warehouse}: File exists" in tick.skip_message
