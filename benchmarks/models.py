"""What the generators cost: parameters, FLOPs per 32 -> 128 image, and CPU inference throughput.

For the tutorial's generator (16 residual blocks x 64 filters, RGB) and the ``cpu`` profile's
(6 x 32), each with the tutorial's upsampling (``nearest``) and the paper's (``pixel_shuffle``):

- parameters: ``model.count_params()`` (tests/test_generator.py checks them against a hand count);
- FLOPs: 2 x the convolution MACs counted from layer shapes (``qrsr_helpers.models.conv_macs``),
  cross-checked with TensorFlow's graph profiler, which also counts biases, BatchNorm and PReLU;
- throughput: images/s of a ``tf.function`` forward pass at batch 1 and 64 on this machine's CPU,
  after a warm-up call (tracing, allocation), the median of ``--repeats`` timed calls.

Prints a Markdown table and writes it to ``benchmarks/results/models.md``. Timings depend on the
machine and on whatever else runs on it: the table records the CPU and the core count.

    python benchmarks/models.py [--repeats 3] [--batches 1 64] [--out benchmarks/results/models.md]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from machine import cpu_model  # benchmarks/machine.py

LR = 32  # 32 -> 128, the tutorial's x4


def profiler_flops(model, channels: int) -> int | None:
    """FLOPs of one 32 x 32 forward pass as TensorFlow's v1 graph profiler counts them (None if the
    profiler is unavailable in this TensorFlow build: it lives in a v1 compatibility module)."""
    import tensorflow as tf

    try:
        from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    except ImportError:
        return None
    forward = tf.function(lambda x: model(x, training=False), autograph=False)
    concrete = forward.get_concrete_function(tf.TensorSpec((1, LR, LR, channels), tf.float32))
    graph = convert_variables_to_constants_v2(concrete).graph
    builder = tf.compat.v1.profiler.ProfileOptionBuilder
    options = builder(builder.float_operation()).with_empty_output().build()
    return tf.compat.v1.profiler.profile(graph=graph, options=options).total_float_ops


def throughput(model, batch: int, channels: int, repeats: int) -> float:
    """Median images/s of ``repeats`` timed forward passes (after one untimed warm-up)."""
    import numpy as np
    import tensorflow as tf

    forward = tf.function(lambda x: model(x, training=False), autograph=False)
    x = tf.constant(np.random.default_rng(0).random((batch, LR, LR, channels), np.float32))
    forward(x).numpy()  # warm-up: trace, allocate
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        forward(x).numpy()
        seconds.append(time.perf_counter() - start)
    return batch / statistics.median(seconds)




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per batch size (median reported)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "models.md")
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from qrsr_helpers.config import get_config
    from qrsr_helpers.models import build_generator, conv_macs

    cpu = get_config("cpu")
    sizes = {"tutorial 16x64": (16, 64),
             f"cpu profile {cpu.n_res_blocks}x{cpu.filters}": (cpu.n_res_blocks, cpu.filters)}
    header = ["generator", "upsampling", "params", "GFLOPs/img (conv, analytic)", "GFLOPs/img (TF profiler)"]
    header += [f"img/s batch {b}" for b in args.batches]
    rows = []
    for label, (blocks, filters) in sizes.items():
        for mode in ("nearest", "pixel_shuffle"):
            model = build_generator(blocks, 2, mode, channels=3, filters=filters)
            flops = 2 * conv_macs(model, (LR, LR))
            profiled = profiler_flops(model, 3)
            speeds = [throughput(model, b, 3, args.repeats) for b in args.batches]
            row = [label, mode, f"{model.count_params():,}", f"{flops / 1e9:.2f}",
                   "n/a" if profiled is None else f"{profiled / 1e9:.2f}"] + [f"{s:.1f}" for s in speeds]
            rows.append(row)
            print(" | ".join(row), flush=True)
            keras.backend.clear_session()

    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = f" (1-min load average at the end: {os.getloadavg()[0]:.1f}: other processes share these cores)" \
        if hasattr(os, "getloadavg") else ""
    lines = [
        "# Generator cost (32 -> 128, RGB)",
        "",
        f"Measured by `python benchmarks/models.py --repeats {args.repeats}` on {cpu_model()}, {threads} cores, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, CPU only; throughput = median of "
        f"{args.repeats} timed forward passes after a warm-up{load}. GFLOPs = 2 x multiply-accumulates; the "
        "profiler's count adds biases, BatchNorm and PReLU to the analytic conv count.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]
    table = "\n".join(lines)
    print("\n" + table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
