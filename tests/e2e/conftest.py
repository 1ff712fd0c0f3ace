"""E2E fixtures: a private copy of the demo platform, run once per session through `floe run`."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from floe.app.run import RunSummary, run
from tests.conftest import DEMO, PRODUCTS
from tests.e2e import schedule


@dataclass
class Platform:
    """A demo platform copy and the summaries of its first run."""

    root: Path
    first: dict[str, RunSummary]

    def catalog(self):  # type: ignore[no-untyped-def]
        """The platform's Iceberg catalog (read back through it, never through DuckDB)."""
        from floe.runtime.platform import catalog_for_manifest

        return catalog_for_manifest(self.root / "manifest.yaml")


def copy_demo(dest: Path) -> Path:
    """demo/ without build output, into ``dest``."""
    shutil.copytree(DEMO, dest, ignore=shutil.ignore_patterns("target", "logs", ".floe"))
    return dest


@pytest.fixture(scope="session")
def demo_platform(tmp_path_factory: pytest.TempPathFactory) -> Platform:
    """The three demo products, run once on a fresh embedded platform."""
    root = copy_demo(tmp_path_factory.mktemp("platform") / "demo")
    first = {p: run(root / p) for p in PRODUCTS}
    return Platform(root, first)


@pytest.hookimpl(tryfirst=True)  # before xdist's own (registered later)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile``: whole modules, longest first, modules sharing a setup on one
    worker (tests/e2e/schedule.py)."""
    return schedule.make_scheduler(config, log)


def pytest_configure(config: pytest.Config) -> None:
    """Seconds per module recorded when $FLOE_E2E_DURATIONS names a file."""
    schedule.register_recorder(config)
