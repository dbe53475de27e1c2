"""Try harder only when the first read fails: extra attempts, cheapest first (``qrsr enhance --fast`` skips them).

A rung is kept only if it adds exact reads with no misread on ``benchmarks/decode_ladder.py``, which measures the
dropped candidates too (``results/decode_ladder.md``: real photos 14 -> 17 of 64 at 24 px, all by the ensemble;
scenes 67 -> 74 and 24 -> 32 of 100). A rung's read counts only when its symbol spans at least
:data:`PLAUSIBLE_SHARE` of the enhanced region: on photo-style scenes each rung once read a small, short level-L
symbol drawn from texture (12-24 % of the region), where every true read spanned 31-67 % (``benchmarks/photo_like.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from .decode import DecodeResult, decode_all


@dataclass(frozen=True)
class Attempt:
    """What every rung starts from: the LR region, its default x4 enhancement and the ``inference.Enhancer``."""

    crop: np.ndarray
    sr: np.ndarray
    enhancer: object


PLAUSIBLE_SHARE = 0.28  # of the region's shorter side: misreads spanned 12-24 %, true reads 31-67 % (docstring)


def plausible_reads(sr: np.ndarray) -> dict[str, DecodeResult]:
    """What every decoder reads in a rung's x4 image, symbols narrower than ``PLAUSIBLE_SHARE`` of it refused."""
    return decode_all(sr, enhanced=True, min_side=PLAUSIBLE_SHARE * min(sr.shape[:2]))


# A rung returns the image it decoded (the output when it has the enhancement's shape) and what each decoder read.
Outcome = tuple["np.ndarray | None", dict[str, DecodeResult]]


def ensemble(attempt: Attempt) -> Outcome:
    """The geometric self-ensemble (8x the generator), decoded like the first enhancement."""
    sr = attempt.enhancer.enhance(attempt.crop, ensemble=True)
    return sr, plausible_reads(sr)


def rescaled(factor: float) -> Callable[[Attempt], Outcome]:
    """The region resampled x``factor`` (LR), then enhanced x4 and decoded like the first enhancement."""
    def rung(attempt: Attempt) -> Outcome:
        h, w = attempt.crop.shape[:2]
        size = (max(8, round(w * factor)), max(8, round(h * factor)))
        kernel = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
        sr = attempt.enhancer.enhance(cv2.resize(attempt.crop, size, interpolation=kernel), ensemble=False)
        return None, plausible_reads(sr)

    rung.__name__ = rung.__qualname__ = f"rescale_{factor:g}"
    return rung


# The rungs kept, in the order tried (cheapest first: 0.028, 0.036 and 0.085 s a try, Intel Xeon, 2 cores).
LADDER: tuple[Callable[[Attempt], Outcome], ...] = (rescaled(1.25), rescaled(1.5), ensemble)


def climb(attempt: Attempt, rungs=LADDER) -> tuple[str, np.ndarray | None, dict[str, dict[str, DecodeResult]]]:
    """Try ``rungs`` in order until one reads a payload: the name of the rung that read ("" for none), its image
    (``None`` when it does not replace the enhancement) and what each tried rung read."""
    tried: dict[str, dict[str, DecodeResult]] = {}
    for rung in rungs:
        image, decoded = rung(attempt)
        tried[rung.__name__] = decoded
        if any(result.ok for result in decoded.values()):
            keep = image if image is not None and image.shape == attempt.sr.shape else None
            return rung.__name__, keep, tried
    return "", None, tried
