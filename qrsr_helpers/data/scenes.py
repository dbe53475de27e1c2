"""Photo-like scenes for ``qrsr enhance``: a small printed code in a busy frame, its payload known."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .degrade import degrade
from .synth import PHOTO_MAX_VERSION, PHOTO_STYLES, SUPERSAMPLE, draw_photo_label, random_code, render_scene


@dataclass(frozen=True)
class Photo:
    """A synthetic photo (uint8 RGB) holding one code; ``box`` = (x0, y0, x1, y1) of its label."""

    image: np.ndarray
    payload: str
    version: int
    box: tuple[int, int, int, int]
    module_px: float  # pixels per module in ``image``


def scene_background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
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
                    max_version: int | None = None, style: str = "realistic", symbol_px: float | None = None) -> Photo:
    """A ``size`` = (height, width) photo of a code label in a busy scene, turned up to 40 degrees (``realistic``)
    or as a phone sees it (``photo``; ``shrunk``: photographed larger and downscaled). ``module_px`` (default
    1.2-2.5: where decoders start to fail, so where SR matters) or ``symbol_px`` (the symbol's width, as the
    real-photo benchmarks give it)."""
    if style not in ("realistic", *PHOTO_STYLES):
        raise ValueError(f"style={style!r} is not one of {['realistic', *PHOTO_STYLES]}")
    if module_px is not None and symbol_px is not None:
        raise ValueError("give module_px or symbol_px, not both")
    rng = np.random.default_rng([seed, 0x9407])
    code = random_code(rng, max_version or (PHOTO_MAX_VERSION if style in PHOTO_STYLES else 4))
    module_px = symbol_px / code.modules if symbol_px is not None else module_px
    module_px = float(module_px if module_px is not None else rng.uniform(1.2, 2.5))
    if module_px <= 0:
        raise ValueError(f"module_px={module_px} must be positive")
    h, w = size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE
    side = int(round(SUPERSAMPLE * module_px * (code.modules + 8) / 0.94))  # realistic's label: code + quiet zone
    if ((code.modules + 8) * module_px * 1.5 >= min(size)) if style in PHOTO_STYLES else (side >= min(h, w) * 0.7):
        raise ValueError(f"a {code.modules}-module code at {module_px} px per module does not fit a {size} photo")
    if style in PHOTO_STYLES:
        canvas = scene_background(rng, h, w)
        margin = np.minimum(0.75 * (code.modules + 8) * module_px * SUPERSAMPLE / np.array([w, h]), 0.5)
        centre = rng.uniform(np.maximum(0.3, margin), np.minimum(0.7, 1 - margin)) * (w, h)  # the label in frame
        corners = draw_photo_label(canvas, code, rng, module_px * SUPERSAMPLE, centre)
        scene = np.round(canvas * 255).astype(np.uint8)
    else:
        label = render_scene(code, rng, "realistic", hr_size=side)
        canvas = scene_background(rng, h, w)
        place = cv2.getRotationMatrix2D((side / 2, side / 2), rng.uniform(-40, 40), 1.0)
        place[:, 2] += (rng.uniform(0.25, 0.75) * w - side / 2, rng.uniform(0.25, 0.75) * h - side / 2)
        warped = cv2.warpAffine(label, place, (w, h), flags=cv2.INTER_LINEAR)
        mask = cv2.warpAffine(np.ones((side, side), np.float32), place, (w, h), flags=cv2.INTER_LINEAR)[..., None]
        scene = np.round((canvas * (1 - mask) + warped * mask) * 255).astype(np.uint8)
        corners = cv2.transform(np.array([[[0, 0], [side, 0], [side, side], [0, side]]], np.float32), place)[0]
    image = degrade(scene, style, rng, scale=SUPERSAMPLE)
    corners = corners / SUPERSAMPLE
    (x0, y0), (x1, y1) = np.floor(corners.min(axis=0)).astype(int), np.ceil(corners.max(axis=0)).astype(int)
    if style in PHOTO_STYLES:  # drawn in frame: its box clipped to the image
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, size[1]), min(y1, size[0])
    return Photo(image, code.payload, code.version, (int(x0), int(y0), int(x1), int(y1)), module_px)
