"""What machine a benchmark ran on, for the header of every table it prints."""

from __future__ import annotations

import platform
import statistics
import subprocess
import time
from pathlib import Path


def cpu_model() -> str:
    """``lscpu``'s "Model name" (the CPU model differs between sessions: record it with every number), else
    /proc/cpuinfo's "model name", else what ``platform`` knows."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        pass
    cpuinfo = Path("/proc/cpuinfo")
    for line in cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def cpu_flags() -> str:
    """The instruction-set extensions that decide reduced-precision speed (amx_bf16, avx512_bf16, avx512f,
    avx2), as /proc/cpuinfo lists them; "none of ..." when absent (an ARM or older x86 CPU)."""
    cpuinfo = Path("/proc/cpuinfo")
    flags = set()
    for line in cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []:
        if line.startswith(("flags", "Features")):
            flags = set(line.split(":", 1)[1].split())
            break
    present = [f for f in ("amx_bf16", "avx512_bf16", "avx512f", "avx2") if f in flags]
    return ", ".join(present) if present else "none of amx_bf16, avx512_bf16, avx512f, avx2"


def median_seconds(call, repeats: int) -> float:
    """Median wall time of ``repeats`` calls, after one untimed warm-up call (tracing, allocation)."""
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
