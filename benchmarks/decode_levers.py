"""Issue 15's cheapest lever, measured: more decoding hypotheses per enhanced code.

For fresh codes (``eval_seed``) of each degradation, the bundled generator's output is decoded by zxing-cpp
under several hypotheses, each alone and in a cascade that stops at the first valid read:

- ``sr``: the enhanced image as it is (what ``qrsr evaluate`` scores today);
- ``sr_otsu``: the enhanced image binarised at Otsu's threshold;
- ``sr_stretch``: contrast stretched to the 2nd..98th percentile;
- ``resample_F``: the LR image resized by F (bicubic) before enhancing, so modules land on a different pixel phase;
- ``ensemble``: geometric self-ensemble, the mean of the generator's outputs over the 8 flips/rotations of
  the LR (each undone), 8x the generator's cost;
- ``bicubic``: the bicubic zoom, as a fallback.

A *misread* is a valid read that is not the true payload; it must stay 0. Times are per code, this process,
measured beside nothing else. Prints a Markdown table; no assert.

    python benchmarks/decode_levers.py --n 500
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
from common import held_out  # benchmarks/common.py
from machine import cpu_model  # benchmarks/machine.py


def reads(images: np.ndarray) -> list[tuple[str, ...]]:
    from qrsr_helpers.decode import decode

    return [decode(image, "zxing").texts for image in images]


def each_grey(look):
    """``look`` (one of the cascade's: Otsu's threshold / ``decode.contrast_stretched``) on every image."""
    from qrsr_helpers.decode import to_gray_uint8

    return lambda images: np.stack([look(to_gray_uint8(image)) for image in images])


def resampled_sr(generator, lr: np.ndarray, factor: float) -> np.ndarray:
    from qrsr_helpers import super_resolve

    side = int(round(lr.shape[1] * factor))
    moved = np.stack([cv2.resize(x, (side, side), interpolation=cv2.INTER_CUBIC) for x in lr])
    return super_resolve(generator, moved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="fresh codes per degradation")
    parser.add_argument("--factors", type=float, nargs="*", default=[0.875, 1.125, 1.25])
    args = parser.parse_args()
    from qrsr_helpers import interpolation_upscaler, super_resolve
    from qrsr_helpers.config import Config
    from qrsr_helpers.decode import contrast_stretched
    from qrsr_helpers.models.registry import load_pretrained, runtime_label

    generator = load_pretrained("srresnet", backend=None)  # what the product runs (the fast path)
    lines = [f"{cpu_model()}, bundled SRResNet ({runtime_label(generator)}), zxing, {args.n} fresh codes per "
             f"degradation (seed "
             f"{Config.eval_seed}); command: python benchmarks/decode_levers.py --n {args.n}", "",
             "| degradation | hypothesis | alone | cascade so far | misreads | extra s/code |",
             "|---|---|---|---|---|---|"]
    for kind, pairs in held_out(args.n).items():
        start = time.perf_counter()
        sr = super_resolve(generator, pairs.lr)
        hypotheses = {"sr": (sr, time.perf_counter() - start)}
        otsu = lambda gray: cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
        for name, make in (("sr_otsu", each_grey(otsu)), ("sr_stretch", each_grey(contrast_stretched))):
            start = time.perf_counter()
            hypotheses[name] = (make(sr), time.perf_counter() - start)
        for factor in args.factors:
            start = time.perf_counter()
            images = resampled_sr(generator, pairs.lr, factor)
            hypotheses[f"resample_{factor:g}"] = (images, time.perf_counter() - start)
        start = time.perf_counter()
        hypotheses["ensemble"] = (super_resolve(generator, pairs.lr, ensemble=True), time.perf_counter() - start)
        start = time.perf_counter()
        hypotheses["bicubic"] = (interpolation_upscaler("bicubic")(pairs.lr), time.perf_counter() - start)
        stopped, correct, misreads = np.zeros(len(pairs), bool), np.zeros(len(pairs), bool), 0
        for name, (images, seconds) in hypotheses.items():
            start = time.perf_counter()
            texts = reads(images)
            seconds += time.perf_counter() - start
            right = np.array([payload in found for payload, found in zip(pairs.payloads, texts)])
            new = np.array([bool(found) for found in texts]) & ~stopped  # the cascade stops at a valid read
            correct |= new & right
            misreads += int((new & ~right).sum())
            stopped |= new
            lines.append(f"| {kind} | {name} | {right.mean():.1%} | {correct.mean():.1%} | {misreads} | "
                         f"{seconds / len(pairs):.4f} |")
            print(lines[-1], flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
