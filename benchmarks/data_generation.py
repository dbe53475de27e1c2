"""How fast are the tutorial's 10,000 codes made? Prints codes per second per style and worker count.

The source tutorial downloaded 10,000 QR images; here they are generated (payload known for each),
which must take seconds, not minutes, or learners will wait on every notebook. Timings include
starting the worker processes, as a real call pays for them. Wall time depends on what else the
machine runs, so CPU milliseconds per code (this process and its workers) are printed too: divided
by the number of free cores, they predict the wall time on an idle machine.

    python benchmarks/data_generation.py                    # 10,000 codes, clean and realistic, all cores
    python benchmarks/data_generation.py --workers 1 2      # compare worker counts
    python benchmarks/data_generation.py --n 2000 --styles realistic photo --workers 1   # the photo style's cost
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from machine import cpu_model  # benchmarks/machine.py

from qrsr_helpers.data.pairs import _cpu_count, generate_pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="codes per measurement (the tutorial's 10,000)")
    parser.add_argument("--styles", nargs="+", default=["clean", "realistic"],
                        choices=["clean", "realistic", "wild", "photo"])
    parser.add_argument("--workers", nargs="+", type=int, default=[_cpu_count()], help="worker processes")
    args = parser.parse_args()
    print(f"{cpu_model()}, {_cpu_count()} usable cores, "
          f"load average {os.getloadavg()[0]:.1f} at start; HR 128x128 RGB, LR 32x32\n")
    print(f"{'style':<10} {'codes':>7} {'workers':>8} {'seconds':>8} {'codes/s':>8} {'cpu ms/code':>12}")
    for style in args.styles:
        for workers in args.workers:
            cpu, start = _cpu_seconds(), time.perf_counter()
            pairs = generate_pairs(args.n, seed=2024, degradation=style, workers=workers)
            seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
            print(f"{style:<10} {len(pairs):>7} {workers:>8} {seconds:>8.1f} {len(pairs) / seconds:>8.0f} "
                  f"{cpu / len(pairs) * 1e3:>12.2f}", flush=True)


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its finished (reaped) worker processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
