"""Building blocks shared by the per-product generators.

Everything here is deterministic: randomness only ever comes from a ``random.Random``
seeded from the caller's seed plus the product and table name, never from the global
generator or the wall clock.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from types import TracebackType


def table_rng(seed: int, product: str, table: str) -> random.Random:
    """A private generator for one table, so tables never disturb each other's streams.

    String seeds are hashed with SHA-512 by ``random.Random`` (not with ``hash()``), so the
    stream is identical across processes and Python runs.
    """
    # Demo data, not security: a reproducible PRNG is exactly what is wanted here.
    return random.Random(f"floe-demo:{product}:{table}:{seed}")  # noqa: S311  # nosec B311


def share(rows: int, rate: float) -> int:
    """How many of ``rows`` rows a dirty-row ``rate`` asks for: at least one."""
    return max(1, round(rows * rate))


def pick(rng: random.Random, population: int, k: int) -> set[int]:
    """``k`` distinct indices out of ``range(population)``."""
    return set(rng.sample(range(population), min(k, population)))


def id_width(count: int, minimum: int) -> int:
    """Digits needed to zero-pad ids up to ``count``, never fewer than ``minimum``."""
    return max(minimum, len(str(count)))


# --------------------------------------------------------------------------- dirt
def noisy_lower(rng: random.Random, value: str) -> str:
    """A spelling of a lower-case value that ``lower(trim(x))`` turns back into it."""
    variant = int(rng.random() * 5)
    if variant == 0:
        return value.upper()
    if variant == 1:
        return value.capitalize() + " "
    if variant == 2:
        return " " + value.upper()
    if variant == 3:
        return value.capitalize()
    return " " + value + " "


def noisy_upper(rng: random.Random, value: str) -> str:
    """A spelling of an upper-case code or id that ``upper(trim(x))`` turns back into it."""
    variant = int(rng.random() * 4)
    if variant == 0:
        return value.lower()
    if variant == 1:
        return " " + value.lower()
    if variant == 2:
        return value.lower() + " "
    return " " + value + " "


def noisy_trim(rng: random.Random, value: str) -> str:
    """``value`` with stray spaces that ``trim(x)`` removes."""
    variant = int(rng.random() * 3)
    if variant == 0:
        return "  " + value
    if variant == 1:
        return value + " "
    return " " + value + " "


# --------------------------------------------------------------------------- time
class Clock:
    """Fast ``YYYY-MM-DD HH:MM:SS`` formatting of second offsets from a midnight origin.

    ``datetime.strftime`` dominates the cost of writing a million rows, so dates are
    formatted once per day and cached.
    """

    def __init__(self, origin: date) -> None:
        self._origin = origin
        self._days: list[str] = []

    def day(self, index: int) -> str:
        """The ``YYYY-MM-DD`` of ``origin + index`` days (``index`` >= 0)."""
        days = self._days
        while len(days) <= index:
            days.append((self._origin + timedelta(days=len(days))).isoformat())
        return days[index]

    def at(self, seconds: int) -> str:
        """The timestamp ``seconds`` after the origin's midnight."""
        d, rest = divmod(seconds, 86_400)
        h, rest = divmod(rest, 3_600)
        m, s = divmod(rest, 60)
        return f"{self.day(d)} {h:02d}:{m:02d}:{s:02d}"


# --------------------------------------------------------------------------- output
class TableWriter:
    """Streams one seed CSV: header first, ``\\n`` line endings, rows counted."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.path = path
        self.columns = tuple(columns)
        self.rows = 0
        self._fh = path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._fh, lineterminator="\n")
        self._writer.writerow(self.columns)

    def write(self, row: Sequence[str]) -> None:
        """Append one data row (values already formatted as text)."""
        self._writer.writerow(row)
        self.rows += 1

    def close(self) -> None:
        """Flush and close the file."""
        self._fh.close()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
