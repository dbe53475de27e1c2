"""The bundled generator and ``enhance(image)``: the one path every user-facing feature goes through.

``load_pretrained()`` returns the generator this repository trained with its own code (see
``weights/MODEL_CARD.md``); ``enhance(image)`` takes a uint8 image (H x W grey, H x W x 3 RGB or
H x W x 4 RGBA, any size) and returns the x4 uint8 image of the same kind. Large inputs are
processed in overlapping tiles, so memory stays bounded whatever the photo's size.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

WEIGHTS_DIR = Path(__file__).parent / "weights"
BUNDLED = {"srresnet": "srresnet_16x64", "srgan": "srgan_16x64"}
DEFAULT_MODEL = "srresnet"


def bundled_path(model: str = DEFAULT_MODEL) -> Path:
    """The weights file of a bundled model (``srresnet`` | ``srgan``)."""
    if model not in BUNDLED:
        raise ValueError(f"bundled model {model!r} is not one of {list(BUNDLED)}")
    return WEIGHTS_DIR / f"{BUNDLED[model]}.weights.h5"


def weights_architecture(weights: Path) -> dict:
    """The architecture recorded beside a weights file (``NAME.run.json``); the bundled default otherwise."""
    info = weights.with_name(weights.name.replace(".weights.h5", ".run.json"))
    if info.is_file():
        return json.loads(info.read_text())["architecture"]
    return dict(n_res_blocks=16, filters=64, upsampling="pixel_shuffle", channels=3)


@lru_cache(maxsize=4)
def _load(path: str):
    from .models import build_generator

    weights = Path(path)
    if not weights.is_file():
        raise FileNotFoundError(f"generator weights not found: {weights}")
    arch = weights_architecture(weights)
    generator = build_generator(n_res_blocks=arch["n_res_blocks"], n_upscale=2, upsampling=arch["upsampling"],
                                channels=arch["channels"], filters=arch["filters"], name=weights.name.split(".")[0])
    generator.load_weights(weights)
    return generator


def load_pretrained(weights: str | Path = DEFAULT_MODEL):
    """The bundled generator (``"srresnet"``, ``"srgan"``) or one from a ``.weights.h5`` file, ready to
    use (cached: loading twice costs nothing). Input and output pixels are in [0, 1]."""
    path = bundled_path(weights) if str(weights) in BUNDLED else Path(weights)
    return _load(str(path.resolve()))


def _as_rgb(image: np.ndarray) -> tuple[np.ndarray, str]:
    """uint8 RGB view of any supported image, and its kind (gray | rgb | rgba)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"enhance() wants a uint8 image, got {image.dtype}; convert 16-bit with image >> 8")
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        gray = image.reshape(image.shape[:2])
        return np.repeat(gray[..., None], 3, axis=2), "gray"
    if image.ndim == 3 and image.shape[2] in (3, 4):
        return np.ascontiguousarray(image[..., :3]), "rgb" if image.shape[2] == 3 else "rgba"
    raise ValueError(f"enhance() wants H x W, H x W x 3 or H x W x 4, got shape {image.shape}")


def _tiles(length: int, tile: int, overlap: int) -> list[int]:
    """Tile starts covering ``length`` with tiles of ``tile`` overlapping by ``overlap``."""
    if length <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile, step))
    return starts + [length - tile]


def super_resolve(generator, rgb: np.ndarray, tile: int = 128, overlap: int = 16, batch_size: int = 16) -> np.ndarray:
    """x scale of a uint8 RGB image in overlapping LR tiles, blended with a feathered window so tile
    seams do not show. Peak memory depends on ``tile`` and ``batch_size``, not on the image size."""
    from .inference import resolve

    h, w = rgb.shape[:2]
    scale = int(generator.output_shape[1] // generator.input_shape[1]) if generator.input_shape[1] else 4
    th, tw = min(tile, h), min(tile, w)
    starts = [(y, x) for y in _tiles(h, th, overlap) for x in _tiles(w, tw, overlap)]
    if len(starts) == 1:
        return resolve(generator, rgb[None], batch_size)[0]
    out = np.zeros((h * scale, w * scale, 3), np.float32)
    weight = np.zeros((h * scale, w * scale, 1), np.float32)
    ramp = lambda n: np.minimum(np.minimum(np.arange(n) + 1, np.arange(n)[::-1] + 1), overlap * scale).astype(np.float32)
    window = (ramp(th * scale)[:, None] * ramp(tw * scale)[None, :])[..., None]
    for i in range(0, len(starts), batch_size):
        chunk = starts[i:i + batch_size]
        sr = resolve(generator, np.stack([rgb[y:y + th, x:x + tw] for y, x in chunk]), batch_size)
        for (y, x), patch in zip(chunk, sr):
            ys, xs = slice(y * scale, (y + th) * scale), slice(x * scale, (x + tw) * scale)
            out[ys, xs] += patch * window
            weight[ys, xs] += window
    return np.round(out / weight).clip(0, 255).astype(np.uint8)


def enhance(image: np.ndarray, generator=None, tile: int = 128) -> np.ndarray:
    """x4 super-resolution of a uint8 image of any size, returned as the same kind (gray/RGB/RGBA;
    alpha is upscaled bicubically). ``generator`` defaults to the bundled one."""
    import cv2

    rgb, kind = _as_rgb(image)
    sr = super_resolve(generator or load_pretrained(), rgb, tile=tile)
    if kind == "gray":
        return cv2.cvtColor(sr, cv2.COLOR_RGB2GRAY)
    if kind == "rgba":
        alpha = cv2.resize(np.asarray(image)[..., 3], sr.shape[1::-1], interpolation=cv2.INTER_CUBIC)
        return np.dstack([sr, alpha])
    return sr
