"""Alerts as JSON POSTed to a webhook (Slack/Teams relays, PagerDuty Events, any HTTP sink)."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from floe.plugins.abcs import AlertChannelPlugin
from floe.plugins.base import HealthStatus
from floe.plugins.builtin.probe import endpoint_health

LOG = logging.getLogger(__name__)


class WebhookConfig(BaseModel):
    """Settings of the webhook alert channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="http(s) URL receiving a JSON POST per alert.")
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)


class WebhookAlertPlugin(AlertChannelPlugin[WebhookConfig]):
    """POST the alert as JSON; delivery problems are logged once, never raised."""

    name: ClassVar[str] = "webhook"
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[str] = "Alerts as JSON POSTs to a webhook URL"

    def send(self, alert: dict[str, Any]) -> None:
        """Deliver one alert within the timeout; a failure is logged, not raised."""
        url = self.config.url
        if not url.startswith(("http://", "https://")):
            LOG.warning("alert not sent: webhook url must be http(s): %s", url)
            return
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url,
            data=json.dumps(alert, sort_keys=True).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout_seconds):  # noqa: S310  # nosec B310
                return
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            LOG.warning("alert not delivered to %s: %s", url, exc)

    def health_check(self) -> HealthStatus:
        """The webhook's host answers (degraded when not: a run never waits for an alert)."""
        return endpoint_health(self.config.url, self.config.timeout_seconds, "alerts")
