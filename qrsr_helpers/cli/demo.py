"""``qrsr demo``: the bundled generator against bicubic on fresh codes (the evaluation seed: never trained on),
realistic camera degradation, scored by ``evaluate`` and shown as an LR | bicubic | SR | HR figure."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io import atomic_path, check_writable
from ..models.registry import BUNDLED, weights_path
from . import load_for


@dataclass
class Comparison:

    pairs: object  # data.pairs.Pairs
    model: str  # the generator's name in the tables
    upscaled: dict[str, np.ndarray]
    tables: dict  # evaluate.evaluate_upscalers: overall, per_version, per_image
    hr_rates: dict[str, float]


def compare_on_fresh_codes(n: int, seed: int, weights: str | Path | None = None, backend: str | None = None,
                           precision: str | None = None) -> Comparison:
    from ..data.pairs import generate_pairs
    from ..evaluate import evaluate_upscalers, hr_decode_rate, interpolation_upscaler, upscaler

    path = weights_path(weights)
    model = next((name for name in BUNDLED if weights_path(name) == path), path.name.split(".")[0])
    pairs = generate_pairs(n, seed, "realistic")
    upscaled: dict[str, np.ndarray] = {}

    def keeping(label: str, upscale):
        def run(lr: np.ndarray) -> np.ndarray:
            upscaled[label] = upscale(lr)
            return upscaled[label]
        return run

    upscalers = {"bicubic": keeping("bicubic", interpolation_upscaler("bicubic")),
                 model: keeping(model, upscaler(str(path), backend, precision))}
    tables = evaluate_upscalers(pairs, upscalers)
    return Comparison(pairs, model, upscaled, tables, hr_decode_rate(pairs))


def run(args: argparse.Namespace) -> int:
    load_for(args, args.weights)  # a bad name, file or setting fails now (and loads once), not after the work
    check_writable(Path(args.out).parent)
    import matplotlib

    matplotlib.use("Agg")  # a command writes files; it never opens a window
    start = time.perf_counter()
    result = compare_on_fresh_codes(args.n, args.seed, args.weights, args.backend, args.precision)
    hr = result.hr_rates
    from ..models.registry import runtime_label

    print(f"qrsr demo: {args.n} fresh codes (seed {args.seed}), realistic camera degradation 128 -> 32 px, "
          f"x4 by bicubic and by {result.model} ({runtime_label(load_for(args, args.weights))})")
    print(f"HR itself decodes: zxing {hr['zxing']:.1%}, opencv {hr['opencv']:.1%}\n")
    print(result.tables["overall"].to_string())
    figure_path = write_demo_figure(args.out, result)
    print(f"\nfigure: {figure_path}   ({time.perf_counter() - start:.0f} s)")
    return 0


def write_demo_figure(path: str | Path, result: Comparison, n: int = 4) -> Path:
    """The first ``n`` codes (not picked: what a user would get), each output tagged decoded or not (zxing)."""
    import matplotlib.pyplot as plt

    from ..plots import decode_grid

    pairs, per_image, model = result.pairs, result.tables["per_image"], result.model
    n = min(n, len(pairs))
    decoded = {label: per_image.loc[per_image["upscaler"] == label, "decoded_zxing"].to_numpy()[:n]
               for label in result.upscaled}
    columns = {"LR (input)": pairs.lr[:n], "bicubic": result.upscaled["bicubic"][:n],
               model: result.upscaled[model][:n], "HR (truth)": pairs.hr[:n]}
    figure = decode_grid(columns, decoded, n=n,
                         row_labels=[f"version {v}, EC {e}" for v, e in zip(pairs.versions[:n], pairs.errors[:n])])
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=72, format="png")
    plt.close(figure)
    return Path(path)
