"""Field types shared by floe.yaml and manifest.yaml."""

# Annotations are objects here, not strings (no ``from __future__ import annotations``):
# pydantic would compile and evaluate each string when the module is imported.

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints, field_validator

from floe.spec.base import FloeModel, new_dict

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


def namespace_of(product: str) -> str:
    """The Iceberg namespace of a product (``customer-360`` → ``customer_360``)."""
    return product.replace("-", "_")


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
    labels: dict[str, str] = Field(default_factory=new_dict)


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
    config: dict[str, Any] = Field(default_factory=new_dict)

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


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1} | {
    unit: factor
    for power, letter in enumerate("kmgt", start=1)
    for unit, factor in (
        (letter, 1024**power),
        (f"{letter}ib", 1024**power),
        (f"{letter}b", 1000**power),
    )
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_size(text: str | int) -> int:
    """A size in bytes from ``128MiB``, ``64MB``, ``512k`` or a plain number of bytes
    (KiB/MiB/GiB and k/m/g are powers of 1024, KB/MB/GB powers of 1000); ValueError if not."""
    if isinstance(text, int):
        return text
    match = _SIZE.match(text)
    factor = _SIZE_UNITS.get(match.group(2).lower()) if match else None
    if match is None or factor is None:
        raise ValueError(f"'{text}' is no size (e.g. 128MiB, 64MB, 1048576)")
    return int(float(match.group(1)) * factor)


def parse_duration(text: str) -> float:
    """Seconds from ``30m``, ``12h``, ``3d``, ``1w`` (or a bare ``0``); ValueError if not."""
    if text.strip() == "0":
        return 0.0
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"'{text}' is no duration (a number and s, m, h, d or w: 3d, 12h)")
    return float(match.group(1)) * _DURATION_SECONDS[match.group(2).lower()]
