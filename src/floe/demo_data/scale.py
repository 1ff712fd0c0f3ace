"""How much demo data to generate: ``FLOE_DEMO_SEED_SCALE=small|medium|large|<rows>``.

A scale fixes the number of rows in each product's biggest table (transactions, readings,
positions); the other tables are sized from it.

* ``small`` (the default): 1,000 rows in the biggest table and 100-1,000 rows in every table.
* ``medium``: 25,000 rows in the biggest table.
* ``large``: 1,000,000 rows in the biggest table.
* an integer such as ``200000``: that many rows in the biggest table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

#: Environment variable read by :func:`scale_from_env`.
SCALE_ENV = "FLOE_DEMO_SEED_SCALE"

ScaleName = Literal["small", "medium", "large"]
#: A named preset or an explicit row count for the biggest table.
Scale = ScaleName | int

DEFAULT_SCALE: ScaleName = "small"

#: Rows in the biggest table of a product for each named preset.
PRESET_ROWS: dict[ScaleName, int] = {"small": 1_000, "medium": 25_000, "large": 1_000_000}

#: Bounds on an explicit row count (below the minimum the dirty rows would swamp the data).
MIN_ROWS = 100
MAX_ROWS = 50_000_000

ACCEPTED = f"small, medium, large or an integer row count from {MIN_ROWS} to {MAX_ROWS:,}"


def _invalid(text: str) -> ValueError:
    return ValueError(f"invalid demo seed scale {text!r}: expected {ACCEPTED}")


def _check_rows(rows: int, text: str) -> int:
    if not MIN_ROWS <= rows <= MAX_ROWS:
        raise _invalid(text)
    return rows


def parse_scale(text: str) -> Scale:
    """Parse a scale as written in ``FLOE_DEMO_SEED_SCALE``.

    Returns the preset name (case and surrounding whitespace ignored) or the row count
    (``_`` and ``,`` digit separators allowed). Raises ``ValueError`` naming the accepted
    values for anything else.
    """
    cleaned = text.strip().lower()
    for name in PRESET_ROWS:
        if cleaned == name:
            return name
    digits = cleaned.replace("_", "").replace(",", "")
    if not digits.isdigit():
        raise _invalid(text)
    return _check_rows(int(digits), text)


def scale_from_env(environ: Mapping[str, str] | None = None) -> Scale:
    """The scale named by ``FLOE_DEMO_SEED_SCALE`` (``small`` when unset or empty)."""
    env = os.environ if environ is None else environ
    text = env.get(SCALE_ENV, "").strip()
    return parse_scale(text) if text else DEFAULT_SCALE


def resolve_rows(scale: Scale | str) -> int:
    """Rows in the biggest table for ``scale`` (a preset, a row count or scale text)."""
    if isinstance(scale, bool):
        raise _invalid(str(scale))
    if isinstance(scale, int):
        return _check_rows(scale, str(scale))
    parsed = parse_scale(scale)
    return parsed if isinstance(parsed, int) else PRESET_ROWS[parsed]
