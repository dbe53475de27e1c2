"""``qrsr demo``: the bundled generator against bicubic on fresh codes (the evaluation seed: never trained on),
realistic camera degradation, scored by ``evaluate`` and shown as an LR | bicubic | SR | HR figure."""

from __future__ import annotations

import argparse
import time
from collections import namedtuple
from pathlib import Path

from ..io import atomic_path, check_writable
from ..models.registry import BUNDLED, load_pretrained, runtime_label, weights_path
from . import named_by

Comparison = namedtuple("Comparison", "pairs model upscaled tables hr_rates")  # tables: evaluate_upscalers'


def compare_on_fresh_codes(n: int, seed: int, weights: str | Path | None = None, backend: str | None = None,
                           precision: str | None = None) -> Comparison:
    from ..data.pairs import generate_pairs
    from ..evaluate import evaluate_upscalers, hr_decode_rate, interpolation_upscaler, upscaler

    path = weights_path(weights)
    model = next((name for name in BUNDLED if weights_path(name) == path), path.name.split(".")[0])
    pairs = generate_pairs(n, seed, "realistic")
    upscaled = {"bicubic": interpolation_upscaler("bicubic")(pairs.lr),
                model: upscaler(str(path), backend, precision)(pairs.lr)}  # kept for the figure
    tables = evaluate_upscalers(pairs, {label: (lambda lr, sr=sr: sr) for label, sr in upscaled.items()})
    return Comparison(pairs, model, upscaled, tables, hr_decode_rate(pairs))


def run(args: argparse.Namespace) -> int:
    with named_by("--weights", args.weights):  # a bad name, file or setting fails now (and loads once)
        generator = load_pretrained(args.weights, args.backend, args.precision)
    check_writable(Path(args.out).parent)
    import matplotlib

    matplotlib.use("Agg")  # a command writes files; it never opens a window
    import matplotlib.pyplot as plt

    from ..plots import decode_grid

    start = time.perf_counter()
    result = compare_on_fresh_codes(args.n, args.seed, args.weights, args.backend, args.precision)
    print(f"qrsr demo: {args.n} fresh codes (seed {args.seed}), realistic camera degradation 128 -> 32 px, "
          f"x4 by bicubic and by {result.model} ({runtime_label(generator)})")
    print(f"HR itself decodes: zxing {result.hr_rates['zxing']:.1%}, opencv {result.hr_rates['opencv']:.1%}\n")
    print(result.tables["overall"].to_string())
    # the first 4 codes (not picked: what a user would get), each output tagged decoded or not (zxing)
    pairs, rows = result.pairs, result.tables["per_image"]
    decoded = {label: rows.loc[rows["upscaler"] == label, "decoded_zxing"].to_numpy() for label in result.upscaled}
    figure = decode_grid({"LR (input)": pairs.lr, **result.upscaled, "HR (truth)": pairs.hr}, decoded,
                         row_labels=[f"version {v}, EC {e}" for v, e in zip(pairs.versions, pairs.errors)])
    with atomic_path(args.out) as tmp:
        figure.savefig(tmp, dpi=72, format="png")
    plt.close(figure)
    print(f"\nfigure: {Path(args.out)}   ({time.perf_counter() - start:.0f} s)")
    return 0
