"""Field types shared by floe.yaml and manifest.yaml."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints, field_validator

from floe.spec.base import FloeModel

DNS1123 = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
SEMVER = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
SECRET_NAME = r"^[A-Za-z_][A-Za-z0-9_.-]{0,252}$"  # noqa: S105 - a name pattern  # noqa: S105 - a name pattern

DnsName = Annotated[str, StringConstraints(pattern=DNS1123, max_length=63, min_length=1)]
SemVer = Annotated[str, StringConstraints(pattern=SEMVER)]
Tier = Literal["bronze", "silver", "gold"]
TIER_ORDER: dict[str, int] = {"bronze": 0, "silver": 1, "gold": 2}


def _yaml_off(value: Any) -> Any:
    """YAML 1.1 reads an unquoted ``off`` as false: take it as the level ``off``."""
    return "off" if value is False else value


EnforcementLevel = Annotated[Literal["off", "warn", "strict"], BeforeValidator(_yaml_off)]
LEVEL_ORDER: dict[str, int] = {"off": 0, "warn": 1, "strict": 2}


class Metadata(FloeModel):
    """Who and what a file describes."""

    name: DnsName = Field(description="DNS-1123 label: lowercase letters, digits and '-'.")
    version: SemVer = Field(description="Semantic version, e.g. 1.0.0.")
    description: str = ""
    owner: str = ""
    labels: dict[str, str] = Field(default_factory=dict)


class SecretRef(FloeModel):
    """A reference to a secret, resolved only at run time by the secrets plugin.

    Written as ``{secret: NAME}`` anywhere a plugin config expects a credential.
    """

    secret: Annotated[str, StringConstraints(pattern=SECRET_NAME)] = Field(
        description="Name of the secret (an environment variable for the 'env' secrets plugin)."
    )


def is_secret_ref(value: Any) -> bool:
    """True for a ``{secret: NAME}`` mapping."""
    return (
        isinstance(value, dict)
        and set(value) == {"secret"}
        and isinstance(value["secret"], str)
        and re.match(SECRET_NAME, value["secret"]) is not None
    )


class PluginRef(FloeModel):
    """A chosen plugin: its registered type name, an optional version pin and its config."""

    type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*$")]
    version: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value


_CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$|^[A-Za-z]{3}$")
_CRON_MACROS = {"@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "@midnight"}
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def check_cron(expr: str) -> str:
    """Validate a 5-field cron expression (or an @macro); raise ValueError saying what is wrong."""
    text = expr.strip()
    if text in _CRON_MACROS:
        return text
    parts = text.split()
    if len(parts) != 5:
        raise ValueError(
            f"a cron expression has 5 fields (minute hour day month weekday), got {len(parts)}"
        )
    names = ("minute", "hour", "day-of-month", "month", "day-of-week")
    for part, name, (low, high) in zip(parts, names, _CRON_RANGES, strict=True):
        if not _CRON_FIELD.match(part):
            raise ValueError(f"invalid {name} field '{part}'")
        for number in re.findall(r"(?<![/\d])\d+", part):
            if not low <= int(number) <= high:
                raise ValueError(f"{name} value {number} is outside {low}-{high}")
    return text
