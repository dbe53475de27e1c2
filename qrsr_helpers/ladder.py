"""Try harder only when the first read fails: a ladder of extra attempts, cheapest first.

``qrsr enhance --decode`` reads the photo, then the located region enhanced x4 (``photo.enhance_file``).
With ``qrsr enhance --try-harder`` (``enhance_file(..., ladder=LADDER)``), when neither reads anything,
``photo.enhance_file`` climbs :data:`LADDER`, one rung at a time, and stops at the first rung that reads a payload.
A file something already read never pays for the ladder, so it costs time only on the files that would otherwise
print "nothing read". It is off by default: on the harder photo-style scenes of ``benchmarks/photo_like.py``
(``benchmarks/results/photo_like.md``) each of the three rungs once read a short numeric payload that was not the
code's (a small, level-L symbol the generator drew from texture), where the product without the ladder misread
none; a plausibility check of a rung's read (its symbol's size against the located code) is the next step.

Every rung is a function of the :class:`Attempt` (the LR region, its default x4 enhancement, the generator)
returning the image it decoded (to write as the output when it has the enhancement's shape, else ``None``)
and what each decoder read in it. :data:`RUNGS` holds every candidate, measured by
``benchmarks/decode_ladder.py``; :data:`LADDER` only those kept. A candidate is kept only if it adds exact
reads on the benchmark (64 real photos at 32 and 24 px per symbol, and synthetic photo-like scenes) with no
misread on any of them, a misread (a payload printed that is not the code's) being never acceptable.

Measured (``benchmarks/results/decode_ladder.md``, Intel Xeon, 2 cores; each candidate alone on the files the
first read missed: real photos @32 px / @24 px, scenes @1.2 / @1.0 px per module, 100 each):

- kept, in this order: ``rescale_1.25`` (0 / 0 / 2 / 5 reads, 0.028 s a try), ``rescale_1.5`` (0 / 0 / 3 / 2,
  0.036 s), ``ensemble`` (0 / 3 / 3 / 5, 0.085 s); no misread. Together: real photos 37 -> 37 of 64 @32 px,
  14 -> 17 @24 px (all three by the ensemble), scenes 67 -> 74 and 24 -> 32 of 100; mean seconds per file
  over all files (model loaded) 0.039 -> 0.116 @32 px and 0.032 -> 0.147 @24 px.
- dropped: ``region`` and ``rescale_0.75`` read nothing; ``global_histogram``, ``fixed_threshold`` (zxing's
  other binarizers on the enhancement) and ``bicubic`` read 1-2 scenes, every one of them also read by the
  kept rungs. zxing's ``try_rotate`` / ``try_downscale`` / ``try_invert`` are already on (its defaults) and
  ``is_pure`` is for generated, axis-aligned images; Otsu and the contrast stretch are in the cascade.

The rescaling rungs read only synthetic scenes, never one more real photo: kept by the rule (reads added, no
misread), at ~0.06 s per failed file; the next measurement on more real photos may drop them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

from .decode import MIN_SYMBOL_PX, DecodeResult, _side, _zxing_read, decode, decode_all, to_gray_uint8
from .inference import enhance


@dataclass(frozen=True)
class Attempt:
    """What every rung starts from: the LR region (``crop``), its default x4 enhancement (``sr``), the
    generator and the tile size the first pass used."""

    crop: np.ndarray
    sr: np.ndarray
    generator: object
    tile: int


Outcome = tuple["np.ndarray | None", dict[str, DecodeResult]]


def ensemble(attempt: Attempt) -> Outcome:
    """The geometric self-ensemble: the region enhanced in its 8 rotations/reflections, averaged (8x the
    generator), decoded like the first enhancement."""
    sr = enhance(attempt.crop, attempt.generator, attempt.tile, ensemble=True)
    return sr, decode_all(sr, enhanced=True)


def _rescaled(factor: float) -> Callable[[Attempt], Outcome]:
    def rung(attempt: Attempt) -> Outcome:
        h, w = attempt.crop.shape[:2]
        size = (max(8, round(w * factor)), max(8, round(h * factor)))
        kernel = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
        sr = enhance(cv2.resize(attempt.crop, size, interpolation=kernel), attempt.generator, attempt.tile)
        return None, decode_all(sr, enhanced=True)

    rung.__name__ = rung.__qualname__ = f"rescale_{factor:g}"
    rung.__doc__ = f"The region resampled x{factor:g} (LR), then enhanced x4 and decoded like the first enhancement."
    return rung


rescale_075 = _rescaled(0.75)
rescale_125 = _rescaled(1.25)
rescale_15 = _rescaled(1.5)


def bicubic(attempt: Attempt) -> Outcome:
    """The region x4 by bicubic interpolation instead of the generator, decoded like an enhancement."""
    h, w = attempt.crop.shape[:2]
    return None, decode_all(cv2.resize(attempt.crop, (w * 4, h * 4), interpolation=cv2.INTER_CUBIC), enhanced=True)


def region(attempt: Attempt) -> Outcome:
    """The region alone, as it is (the whole photo was already read): zxing and OpenCV."""
    return None, {d: decode(attempt.crop, d) for d in ("zxing", "opencv")}


def _zxing_binarizer(binarizer: zxingcpp.Binarizer) -> Callable[[Attempt], Outcome]:
    def rung(attempt: Attempt) -> Outcome:
        gray = to_gray_uint8(attempt.sr)
        found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode,
                                       text_mode=zxingcpp.TextMode.HexECI, binarizer=binarizer)
        corners = lambda p: [(c.x, c.y) for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)]
        reads = tuple(_zxing_read(r) for r in found if r.valid and _side(corners(r.position)) >= MIN_SYMBOL_PX)
        return None, {"zxing": DecodeResult("zxing", reads)}

    name = {zxingcpp.Binarizer.GlobalHistogram: "global_histogram",
            zxingcpp.Binarizer.FixedThreshold: "fixed_threshold"}[binarizer]
    rung.__name__ = rung.__qualname__ = name
    rung.__doc__ = f"zxing with its {binarizer.name} binarizer on the first enhancement (the cascade: LocalAverage)."
    return rung


global_histogram = _zxing_binarizer(zxingcpp.Binarizer.GlobalHistogram)
fixed_threshold = _zxing_binarizer(zxingcpp.Binarizer.FixedThreshold)

# Every candidate, by name: benchmarks/decode_ladder.py measures each on the files the first read missed.
RUNGS: dict[str, Callable[[Attempt], Outcome]] = {
    f.__name__: f for f in (global_histogram, fixed_threshold, region, bicubic, rescale_075, rescale_125,
                            rescale_15, ensemble)}

# The rungs kept, in the order tried (cheapest first): see the module docstring for the measurement.
LADDER: tuple[Callable[[Attempt], Outcome], ...] = (rescale_125, rescale_15, ensemble)


def climb(attempt: Attempt, rungs=LADDER) -> tuple[str, np.ndarray | None, dict[str, dict[str, DecodeResult]]]:
    """Try ``rungs`` in order until one reads a payload. Returns the name of the rung that read ("" for none),
    its image (``None`` when it is not a replacement for the enhancement) and what each tried rung read."""
    tried: dict[str, dict[str, DecodeResult]] = {}
    for rung in rungs:
        image, decoded = rung(attempt)
        tried[rung.__name__] = decoded
        if any(result.ok for result in decoded.values()):
            keep = image if image is not None and image.shape == attempt.sr.shape else None
            return rung.__name__, keep, tried
    return "", None, tried
