"""``qrsr demo`` and photo-like test scenes: the bundled generator against bicubic, with nothing but
the installed package.

``run_demo`` makes fresh codes from the evaluation seed (never trained on), degrades them with the
realistic camera chain, enhances them and prints decode rate / PSNR / SSIM next to bicubic (the
``evaluate`` module's table), then writes an LR | bicubic | SR | HR figure.

``synthetic_photo`` composes what ``qrsr enhance`` is for: a small printed code somewhere in a
larger scene, photographed (blur, resampling, noise, JPEG). Notebook 08, the tests and the
benchmarks use it; the payload is known, so "did it decode?" has an exact answer.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .data.degrade import degrade
from .data.synth import random_code, render_scene


@dataclass(frozen=True)
class Photo:
    """A synthetic photo (uint8 RGB) holding one code; ``box`` = (x0, y0, x1, y1) of its label."""

    image: np.ndarray
    payload: str
    version: int
    box: tuple[int, int, int, int]
    module_px: float  # pixels per module in ``image``


def _scene_background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Smooth colour blobs, object edges (lines, filled rectangles) and fine grain, float RGB in [0, 1]."""
    coarse = rng.random((int(rng.integers(2, 6)), int(rng.integers(2, 6)), 3)).astype(np.float32)
    background = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    grey = background.mean(axis=2, keepdims=True)
    background = np.clip(grey + (background - grey) * 0.4, 0, 1)  # real scenes are far from saturated
    for _ in range(int(rng.integers(3, 9))):
        colour = rng.random(3).tolist()
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        if rng.random() < 0.5:
            end = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            cv2.line(background, (x, y), end, colour, int(rng.integers(1, 10)))
        else:
            corner = (x + int(rng.integers(20, w // 3)), y + int(rng.integers(20, h // 3)))
            cv2.rectangle(background, (x, y), corner, colour, -1)
    grain = cv2.resize(rng.normal(0, 1, (h // 4, w // 4, 3)).astype(np.float32), (w, h))
    return np.clip(background + grain * 0.05, 0, 1)


def synthetic_photo(seed: int, size: tuple[int, int] = (480, 640), module_px: float | None = None,
                    max_version: int = 4, supersample: int = 2) -> Photo:
    """A ``size`` = (height, width) photo of a printed code label (synth's ``realistic`` style: ink,
    paper, uneven light) rotated by up to 40 degrees at a random place in a busy scene, through the
    realistic camera chain. ``module_px`` (default: 1.2-2.5, drawn) is where super-resolution
    matters: below ~2 px per module decoders start to fail on the photo itself."""
    rng = np.random.default_rng([seed, 0x9407])
    code = random_code(rng, max_version)
    module_px = float(module_px if module_px is not None else rng.uniform(1.2, 2.5))
    if module_px <= 0:
        raise ValueError(f"module_px={module_px} must be positive")
    h, w = size[0] * supersample, size[1] * supersample
    side = int(round(supersample * module_px * (code.modules + 8) / 0.94))  # the label: code + quiet zone
    if side >= min(h, w) * 0.7:
        raise ValueError(f"a {code.modules}-module code at {module_px} px per module does not fit a {size} photo")
    label = render_scene(code, rng, "realistic", hr_size=side)
    canvas = _scene_background(rng, h, w)
    place = cv2.getRotationMatrix2D((side / 2, side / 2), rng.uniform(-40, 40), 1.0)
    place[:, 2] += (rng.uniform(0.25, 0.75) * w - side / 2, rng.uniform(0.25, 0.75) * h - side / 2)
    warped = cv2.warpAffine(label, place, (w, h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(np.ones((side, side), np.float32), place, (w, h), flags=cv2.INTER_LINEAR)[..., None]
    scene = np.round((canvas * (1 - mask) + warped * mask) * 255).astype(np.uint8)
    image = degrade(scene, "realistic", rng, scale=supersample)
    corners = cv2.transform(np.array([[[0, 0], [side, 0], [side, side], [0, side]]], np.float32), place)[0]
    corners /= supersample
    x0, y0 = np.floor(corners.min(axis=0)).astype(int)
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int)
    return Photo(image, code.payload, code.version, (int(x0), int(y0), int(x1), int(y1)), module_px)


@dataclass
class Comparison:
    """What ``compare_on_fresh_codes`` measured: the pairs, each upscaler's outputs and the tables."""

    pairs: object  # data.synth.Pairs
    model: str  # the generator's name in the tables
    upscaled: dict[str, np.ndarray]
    tables: dict  # evaluate.evaluate_upscalers: overall, per_version, per_image
    hr_rates: dict[str, float]


def compare_on_fresh_codes(n: int, seed: int, weights: str | Path | None = None) -> Comparison:
    """``n`` codes from ``seed`` (the evaluation seed by default in the CLI: never trained on), realistic
    camera degradation, x4 by bicubic and by the generator, scored by ``evaluate``."""
    from .data.synth import generate_pairs
    from .enhancer import BUNDLED, DEFAULT_MODEL, load_pretrained
    from .evaluate import evaluate_upscalers, generator_upscaler, hr_decode_rate, interpolation_upscaler

    weights = weights or DEFAULT_MODEL
    model = str(weights) if str(weights) in BUNDLED else Path(weights).name.split(".")[0]
    pairs = generate_pairs(n, seed, "realistic")
    upscaled: dict[str, np.ndarray] = {}

    def keeping(label: str, upscale):
        def run(lr: np.ndarray) -> np.ndarray:
            upscaled[label] = upscale(lr)
            return upscaled[label]
        return run

    upscalers = {"bicubic": keeping("bicubic", interpolation_upscaler("bicubic")),
                 model: keeping(model, generator_upscaler(load_pretrained(weights)))}
    tables = evaluate_upscalers(pairs, upscalers)
    return Comparison(pairs, model, upscaled, tables, hr_decode_rate(pairs))


def run_demo(args: argparse.Namespace) -> int:
    """``qrsr demo``: fresh codes -> realistic LR -> bicubic and the generator -> table and figure."""
    from .cli import UserError
    from .enhancer import BUNDLED

    if args.n < 1:
        raise UserError(f"--n {args.n}: need at least one code")
    if args.weights and args.weights not in BUNDLED and not Path(args.weights).is_file():
        raise UserError(f"--weights {args.weights}: no such file")
    import matplotlib

    matplotlib.use("Agg")  # a command writes files; it never opens a window
    start = time.perf_counter()
    result = compare_on_fresh_codes(args.n, args.seed, args.weights)
    hr = result.hr_rates
    print(f"qrsr demo: {args.n} fresh codes (seed {args.seed}), realistic camera degradation 128 -> 32 px, "
          f"x4 by bicubic and by {result.model}")
    print(f"HR itself decodes: zxing {hr['zxing']:.1%}, opencv {hr['opencv']:.1%}\n")
    print(result.tables["overall"].to_string())
    figure_path = write_demo_figure(args.out, result)
    print(f"\nfigure: {figure_path}   ({time.perf_counter() - start:.0f} s)")
    return 0


def write_demo_figure(path: str | Path, result: Comparison, n: int = 4) -> Path:
    """LR | bicubic | model | HR for the first ``n`` codes (not picked: what a user would get), each
    output tagged decoded or not (zxing); written atomically."""
    import matplotlib.pyplot as plt

    from .plots import decode_grid

    pairs, per_image, model = result.pairs, result.tables["per_image"], result.model
    n = min(n, len(pairs))
    decoded = {label: per_image.loc[per_image["upscaler"] == label, "decoded_zxing"].to_numpy()[:n]
               for label in result.upscaled}
    columns = {"LR (input)": pairs.lr[:n], "bicubic": result.upscaled["bicubic"][:n],
               model: result.upscaled[model][:n], "HR (truth)": pairs.hr[:n]}
    figure = decode_grid(columns, decoded, n=n,
                         row_labels=[f"version {v}, EC {e}" for v, e in zip(pairs.versions[:n], pairs.errors[:n])])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}")
    figure.savefig(tmp, dpi=72, format="png")
    plt.close(figure)
    tmp.replace(path)
    return path
