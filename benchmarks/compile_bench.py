"""Benchmark: `floe compile demo/<product>` as a cold process (goal, issue 11: median < 0.3 s).

Run with `make bench`. Prints one row per product: median, min and max wall time of N runs,
after one warm-up run (the OS file cache is warm; the Python process is cold every time),
and the median CPU time (user + system) of the process, which a busy machine disturbs less.
PYTHONDONTWRITEBYTECODE is removed from the child's environment: users' shells do not set
it, so their floe imports cached bytecode.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOE = Path(sys.executable).with_name("floe")
PRODUCTS = ("customer-360", "iot-telemetry", "financial-risk")
RUNS = 5
GOAL_S = 0.3


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_compile(product: str, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one cold `floe compile`."""
    cpu, start = _cpu(), time.perf_counter()
    subprocess.run(
        [str(FLOE), "compile", str(ROOT / "demo" / product), "--out", str(out)],
        check=True,
        capture_output=True,
        env=ENV,
    )
    return time.perf_counter() - start, _cpu() - cpu


def main() -> int:
    """Print the table; exit 1 when a median misses the goal."""
    print(f"floe compile, cold process, {RUNS} runs after 1 warm-up (goal: median < {GOAL_S}s)")
    print(f"{'product':<16}{'median s':>10}{'min s':>8}{'max s':>8}{'cpu s':>8}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for product in PRODUCTS:
            out = Path(tmp) / product
            time_compile(product, out)
            runs = [time_compile(product, out) for _ in range(RUNS)]
            samples = [wall for wall, _ in runs]
            median = statistics.median(samples)
            cpu = statistics.median(c for _, c in runs)
            worst = max(worst, median)
            print(
                f"{product:<16}{median:>10.3f}{min(samples):>8.3f}{max(samples):>8.3f}{cpu:>8.3f}"
            )
    return 0 if worst < GOAL_S else 1


if __name__ == "__main__":
    sys.exit(main())
