"""Try harder only when the first read fails: extra attempts, cheapest first (``qrsr enhance --fast`` skips them).
A rung is kept only if it adds exact reads with no misread on ``benchmarks/decode_ladder.py`` (real photos 19 -> 27
of 64 at 24 px, 6 by erasures; 38 -> 40 at 32 px, a version 5 and a version 6; scenes 69 -> 73 and 32 -> 48 of 100)."""

from __future__ import annotations

from collections import namedtuple

import cv2
import numpy as np

from .decode import DecodeResult, decode_all, to_gray_uint8
from .erasures import read_with_erasures

# A rung's read counts only when its symbol spans this share of the region's side: with the 2026-11-27 weights rungs
# misread symbols of 12-24 %, true reads spanned 31-60 % (benchmarks/results/ladder_plausibility*.md).
PLAUSIBLE_SHARE = 0.28


# What every rung starts from: the LR region, its default x4 enhancement and the ``inference.Enhancer``.
# A rung returns the image to keep (``None``: keep ``sr``) and what each decoder read.
Attempt = namedtuple("Attempt", "crop sr enhancer")


def plausible_reads(sr: np.ndarray) -> dict[str, DecodeResult]:
    return decode_all(sr, enhanced=True, min_side=PLAUSIBLE_SHARE * min(sr.shape[:2]))


def ensemble(attempt: Attempt):
    sr = attempt.enhancer.enhance(attempt.crop, ensemble=True)
    return sr, plausible_reads(sr)


def erasures(attempt: Attempt):
    """The code zxing locates in the enhancement and loses at the checksum, decoded from the modules that explain the
    region's LR pixels best, the least certain codewords erased (:mod:`erasures`)."""
    sr = to_gray_uint8(attempt.sr)
    reads = read_with_erasures(sr, to_gray_uint8(attempt.crop), min_side=PLAUSIBLE_SHARE * min(sr.shape[:2]))
    return None, {"erasures": DecodeResult("erasures", reads)}


def rescaled(factor: float):
    """The region resampled x``factor`` (LR), then enhanced: the generator sees its modules at another size."""
    def rung(attempt: Attempt):
        size = tuple(max(8, round(side * factor)) for side in attempt.crop.shape[1::-1])  # (width, height)
        kernel = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
        sr = attempt.enhancer.enhance(cv2.resize(attempt.crop, size, interpolation=kernel), ensemble=False)
        return None, plausible_reads(sr)

    rung.__name__ = rung.__qualname__ = f"rescale_{factor:g}"
    return rung


# The rungs kept, in the order tried (cheapest first: 0.013, 0.036 and 0.107 s a try, Intel Xeon, 2 cores).
LADDER = (erasures, rescaled(1.25), ensemble)


def climb(attempt: Attempt, rungs) -> tuple[str, np.ndarray, dict[str, dict[str, DecodeResult]]]:
    """Try ``rungs`` in order until one reads: its name ("" for none), the image to keep and what each rung read."""
    tried: dict[str, dict[str, DecodeResult]] = {}
    for rung in rungs:
        image, tried[rung.__name__] = rung(attempt)
        if any(result.ok for result in tried[rung.__name__].values()):
            return rung.__name__, attempt.sr if image is None else image, tried
    return "", attempt.sr, tried
