"""Security and governance events (FR-067): structured structlog events with stable names.

structlog is imported only when an event is emitted, so a clean compile stays light.
"""

from __future__ import annotations

from typing import Any

#: Stable event names; dashboards and alerts key on them.
POLICY_VIOLATION = "governance.policy_violation"
BREAKING_CHANGE_OVERRIDE = "governance.breaking_change_override"
BREAKING_CHANGE_REJECTED = "governance.breaking_change_rejected"
SECRET_RESOLUTION_FAILED = "security.secret_resolution_failed"  # noqa: S105 - an event name
CATALOG_AUTH_FAILED = "security.catalog_auth_failed"
OVERRIDE_REFUSED = "governance.override_refused"
IDENTITY_AUTH_FAILED = "security.identity_auth_failed"
ACCESS_DENIED = "security.access_denied"

EVENTS = (
    POLICY_VIOLATION,
    BREAKING_CHANGE_OVERRIDE,
    BREAKING_CHANGE_REJECTED,
    SECRET_RESOLUTION_FAILED,
    CATALOG_AUTH_FAILED,
    OVERRIDE_REFUSED,
    IDENTITY_AUTH_FAILED,
    ACCESS_DENIED,
)


def security_event(event: str, **fields: Any) -> None:
    """Log one security/governance event (warning level, logger ``floe.security``).

    Fields must never carry a secret value: names, codes, products and counts only.
    """
    import sys

    import structlog

    assert event in EVENTS, event
    if structlog.is_configured():  # the application's logging setup decides where it goes
        logger = structlog.get_logger("floe.security")
    else:  # never mixed into a command's results on stdout
        logger = structlog.wrap_logger(structlog.PrintLogger(sys.stderr))
    logger.warning(event, category="security", **fields)
