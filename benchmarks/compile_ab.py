"""Compare `floe compile` of two checkouts as cold processes, runs interleaved.

Usage: ``python benchmarks/compile_ab.py OLD_CHECKOUT NEW_CHECKOUT [PAIRS]`` — each checkout
set up (`make setup`: its own ``.venv``). Wall time on a shared VM drifts within seconds, so a
comparison of two benchmarks taken one after the other can show anything; here each pair of
runs (old, then new, same product) is taken back to back, and besides each side's medians the
table shows the median of the pairs' CPU ratios, which the drift disturbs least. As in
``compile_bench.py``, PYTHONDONTWRITEBYTECODE is removed (users' shells import cached bytecode).
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

PRODUCTS = ("customer-360", "iot-telemetry", "financial-risk")
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def compile_once(checkout: Path, product: str, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one cold `floe compile` of ``checkout``'s demo ``product``."""
    cpu, start = _cpu(), time.perf_counter()
    subprocess.run(
        [str(checkout / ".venv" / "bin" / "floe"), "compile", str(checkout / "demo" / product),
         "--out", str(out)],
        check=True, capture_output=True, env=ENV,
    )  # fmt: skip
    return time.perf_counter() - start, _cpu() - cpu


def main() -> int:
    """Print one row per product: each side's wall/CPU medians and the pairs' CPU ratio."""
    old, new = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    print(f"floe compile, cold, {pairs} interleaved pairs: {old} vs {new}")
    head = ("old wall", "new wall", "old cpu", "new cpu", "new/old")
    print(f"{'product':<16}" + "".join(f"{h:>10}" for h in head))
    with tempfile.TemporaryDirectory() as tmp:
        for product in PRODUCTS:
            outs = {old: Path(tmp) / "old", new: Path(tmp) / "new"}
            for checkout in (old, new):  # warm-up: bytecode and file cache
                compile_once(checkout, product, outs[checkout])
            runs: dict[Path, list[tuple[float, float]]] = {old: [], new: []}
            for _ in range(pairs):
                for checkout in (old, new):
                    runs[checkout].append(compile_once(checkout, product, outs[checkout]))
            wall = {c: statistics.median(w for w, _ in r) for c, r in runs.items()}
            cpu = {c: statistics.median(u for _, u in r) for c, r in runs.items()}
            pairs_cpu = zip(runs[old], runs[new], strict=True)
            ratio = statistics.median(n[1] / o[1] for o, n in pairs_cpu)
            cells = (wall[old], wall[new], cpu[old], cpu[new])
            print(f"{product:<16}" + "".join(f"{v:>9.3f}s" for v in cells) + f"{ratio:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
