"""Decode rate (the headline), misread rate, PSNR and SSIM of any upscaler on the same codes, as tables. An
*upscaler* is any function uint8 NHWC LR batch -> uint8 NHWC batch x scale: an interpolation or a generator."""

from __future__ import annotations

import os
from collections.abc import Callable

import cv2
import numpy as np
import pandas as pd
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from .config import Config
from .data.pairs import Pairs
from .decode import READERS, decode_matches, decode_outcomes
from .errors import BadFile, InvalidArgument

Upscaler = Callable[[np.ndarray], np.ndarray]
INTERPOLATIONS = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC,
                  "lanczos": cv2.INTER_LANCZOS4}


def interpolation_upscaler(name: str, scale: int = Config.scale) -> Upscaler:
    """``nearest`` | ``bilinear`` | ``bicubic`` | ``lanczos`` (OpenCV) as an upscaler."""
    if name not in INTERPOLATIONS:
        raise ValueError(f"upscaler={name!r} is not one of {list(INTERPOLATIONS)}")
    flag = INTERPOLATIONS[name]

    def upscale(lr: np.ndarray) -> np.ndarray:
        h, w = lr.shape[1:3]
        return np.stack([cv2.resize(x, (w * scale, h * scale), interpolation=flag).reshape(h * scale, w * scale, -1)
                         for x in lr])

    return upscale


def upscaler(spec, backend: str | None = None, precision: str | None = None) -> Upscaler:
    """An upscaler from a loaded generator, an interpolation's name, or a generator's (``srresnet`` | ``srgan`` |
    ``pretrained`` | a ``.weights.h5`` file) for ``models.registry.load_pretrained``."""
    from .inference import super_resolve
    from .models.registry import BUNDLED, load_pretrained

    if spec is not None and not isinstance(spec, (str, os.PathLike)):  # a loaded generator
        return lambda lr: super_resolve(spec, lr)
    if spec in INTERPOLATIONS:
        return interpolation_upscaler(spec)
    try:
        generator = load_pretrained(spec, backend, precision)
    except BadFile as error:
        if error.reason != "missing" or str(spec).endswith(".weights.h5"):
            raise
        raise InvalidArgument(f"unknown upscaler {spec!r}: use one of {list(INTERPOLATIONS)}, {list(BUNDLED)}, "
                              "'pretrained' or a .weights.h5 file") from None
    return lambda lr: super_resolve(generator, lr)


def image_metrics(sr: np.ndarray, hr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-image PSNR (dB) and SSIM of uint8 batches (NHWC)."""
    if sr.shape != hr.shape:
        raise ValueError(f"SR batch {sr.shape} and HR batch {hr.shape} differ in shape")
    psnr = np.array([peak_signal_noise_ratio(h, s, data_range=255) for s, h in zip(sr, hr)])
    ssim = np.array([structural_similarity(h, s, data_range=255, channel_axis=-1) for s, h in zip(sr, hr)])
    return psnr, ssim


# --- lesson decode-rate: notebook 07 shows this text verbatim ---
def per_image_results(pairs: Pairs, upscalers: dict[str, Upscaler],
                      decoders: tuple[str, ...] = ("zxing", "opencv")) -> pd.DataFrame:
    """One row per (upscaler, image): version, EC level, decoded by each of ``decoders``, PSNR, SSIM."""
    frames = []
    for name, upscale in upscalers.items():
        sr = upscale(pairs.lr)
        psnr, ssim = image_metrics(sr, pairs.hr)
        frame = pd.DataFrame({"upscaler": name, "version": pairs.versions, "error": pairs.errors,
                              "psnr": psnr, "ssim": ssim})
        for decoder in decoders:
            frame[f"decoded_{decoder}"], frame[f"misread_{decoder}"] = decode_outcomes(sr, pairs.payloads, decoder)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def summarize(results: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Decode and misread rates (0-1) per decoder, mean PSNR/SSIM and n, per upscaler (and per ``by``)."""
    keys = ["upscaler"] + ([by] if by else [])
    rates = {f"decode_rate_{d}": (f"decoded_{d}", "mean") for d in READERS if f"decoded_{d}" in results}
    rates |= {f"misread_rate_{d}": (f"misread_{d}", "mean") for d in READERS if f"misread_{d}" in results}
    table = results.groupby(keys, sort=False).agg(**rates, psnr=("psnr", "mean"), ssim=("ssim", "mean"),
                                                  n=("psnr", "size"))
    if by:  # upscalers in the order given, each one's groups in ascending order (version 1, 2, ...)
        order = {name: i for i, name in enumerate(table.index.unique("upscaler"))}
        table = table.sort_index(key=lambda level: level.map(order) if level.name == "upscaler" else level)
    return table.round({**{name: 4 for name in rates}, "psnr": 2, "ssim": 4})


def evaluate_upscalers(pairs: Pairs, upscalers: dict[str, Upscaler],
                       decoders: tuple[str, ...] = ("zxing", "opencv")) -> dict[str, pd.DataFrame]:
    """Overall and per-version tables for every upscaler on the same pairs (``decoders=("zxing",)`` when
    time is short: OpenCV's detector costs several times zxing's per image; ``decoders=READERS`` adds the
    product's cascade)."""
    results = per_image_results(pairs, upscalers, decoders)
    return {"overall": summarize(results), "per_version": summarize(results, "version"), "per_image": results}
# --- end of lesson decode-rate ---


def paired_comparison(a, b, confidence: float = 0.95) -> dict:
    """Do two upscalers read different numbers of the *same* codes (``a``, ``b``: one bool each)? McNemar: only codes
    one reads and the other not count; a paired interval is often several times narrower than two independent ones."""
    from scipy.stats import binomtest, norm

    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if a.shape != b.shape or a.ndim != 1 or not len(a):
        raise ValueError(f"need two equal, non-empty 1-D outcome arrays, got {a.shape} and {b.shape}")
    n, only_a, only_b = len(a), int((a & ~b).sum()), int((b & ~a).sum())
    difference = (only_a - only_b) / n
    half = norm.ppf(0.5 + confidence / 2) * np.sqrt(max(only_a + only_b - (only_a - only_b) ** 2 / n, 0.0)) / n
    p = binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
    return dict(rate_a=float(a.mean()), rate_b=float(b.mean()), difference=difference, low=difference - half,
                high=difference + half, only_a=only_a, only_b=only_b, n=n, mcnemar_p=float(p))


def hr_decode_rate(pairs: Pairs) -> dict[str, float]:
    """How many HR images themselves decode: the ceiling every upscaler is measured against."""
    return {decoder: float(decode_matches(pairs.hr, pairs.payloads, decoder).mean()) for decoder in ("zxing", "opencv")}
