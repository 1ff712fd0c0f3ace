"""The ``jsonl`` alert channel: each failed run appended as one JSON line to a file."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from floe.plugins.abcs import AlertChannelPlugin
from floe.plugins.base import HealthState, HealthStatus

LOG = logging.getLogger(__name__)


class JsonlConfig(BaseModel):
    """Settings of the jsonl alert channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(description="File the alerts are appended to (created when missing).")


class JsonlAlertChannel(AlertChannelPlugin[JsonlConfig]):
    """Append each alert as a JSON line; a write failure is logged, never raised."""

    name: ClassVar[str] = "jsonl"
    version: ClassVar[str] = "0.1.0"
    floe_api_version: ClassVar[str] = "1.0"  # the alert_channel ABC API it was built for
    description: ClassVar[str] = "Failed-run alerts appended as JSON lines to a file"

    @property
    def file(self) -> Path:
        """The alerts file."""
        return Path(self.config.path)

    def send(self, alert: dict[str, Any]) -> None:
        """Append ``alert`` as one line (sorted keys)."""
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            with self.file.open("a", encoding="utf-8") as out:
                out.write(json.dumps(alert, sort_keys=True) + "\n")
        except OSError as exc:
            LOG.warning("alert not written to %s: %s", self.file, exc)

    def health_check(self) -> HealthStatus:
        """The file's folder exists (or can be created) and is writable."""
        folder = self.file.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if os.access(folder, os.W_OK):
            return HealthStatus(HealthState.HEALTHY, f"{self.file} writable")
        return HealthStatus(HealthState.UNHEALTHY, f"{folder} is not writable")
