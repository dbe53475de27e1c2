"""Try harder only when the first read fails: extra attempts, cheapest first (``qrsr enhance --try-harder``).

Off by default: on the photo-style scenes of ``benchmarks/photo_like.py`` each rung once read a short payload that
was not the code's, where the default misread none. A rung is kept only if it adds exact reads with no misread on
``benchmarks/decode_ladder.py``, which measures the dropped candidates too (``results/decode_ladder.md``: real
photos 14 -> 17 of 64 at 24 px, all by the ensemble; scenes 67 -> 74 and 24 -> 32 of 100).
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


# A rung returns the image it decoded (the output when it has the enhancement's shape) and what each decoder read.
Outcome = tuple["np.ndarray | None", dict[str, DecodeResult]]


def ensemble(attempt: Attempt) -> Outcome:
    """The geometric self-ensemble (8x the generator), decoded like the first enhancement."""
    sr = attempt.enhancer.enhance(attempt.crop, ensemble=True)
    return sr, decode_all(sr, enhanced=True)


def rescaled(factor: float) -> Callable[[Attempt], Outcome]:
    """The region resampled x``factor`` (LR), then enhanced x4 and decoded like the first enhancement."""
    def rung(attempt: Attempt) -> Outcome:
        h, w = attempt.crop.shape[:2]
        size = (max(8, round(w * factor)), max(8, round(h * factor)))
        kernel = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
        sr = attempt.enhancer.enhance(cv2.resize(attempt.crop, size, interpolation=kernel), ensemble=False)
        return None, decode_all(sr, enhanced=True)

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
