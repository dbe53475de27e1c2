"""From uint8 pixels to uint8 pixels through a generator: batches (:func:`super_resolve`) and images
of any size (:func:`enhance`, tiled).

``super_resolve`` is the krasserm ``resolve()`` pattern: callers pass and receive uint8 pixels, never
float ranges. ``enhance`` takes a uint8 image (H x W grey, H x W x 3 RGB or H x W x 4 RGBA, any
size) and returns the enhanced uint8 image of the same kind. Large inputs are processed in
overlapping tiles and the result is filled strip by strip, so memory stays bounded whatever the
image's size. The factor is the generator's own (measured on a tiny input), never assumed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from .data.dihedral import dihedral, undo_dihedral
from .errors import BadFile, InvalidArgument
from .io import to_rgb

TILE, OVERLAP = 128, 16  # LR pixels: a 128 x 128 tile costs ~0.3 GB of activations as a graph, ~0.8 GB eagerly
EAGER_TILES = 4  # up to this many tiles (a code's region) run eagerly; more (a whole photo) run as a graph


def super_resolve(generator, lr: np.ndarray, batch_size: int = 64, eager: bool = False,
                  ensemble: bool = False) -> np.ndarray:
    """Super-resolve a batch of uint8 LR images (NHWC) -> uint8 SR images: scale to [0, 1], run the
    generator, clip, round.

    ``eager=True`` calls the model once on the whole batch instead of ``predict``: ``predict`` traces
    a graph for every new input shape (seconds on a CPU), a waste for the odd-sized crops and tiles
    of ``enhance()``; for many same-shaped batches ``predict`` is the faster one.

    ``ensemble=True`` averages the outputs for the 8 rotations/reflections of each input, each turned
    back (geometric self-ensemble, EDSR): 8x the compute for +3.8 points realistic with the bundled
    SRResNet (28.0 -> 31.8 %, zxing, 500 codes; ``benchmarks/decode_levers.py``)."""
    lr = np.asarray(lr)
    if lr.dtype != np.uint8 or lr.ndim != 4:
        raise ValueError(f"super_resolve() wants a uint8 NHWC batch, got {lr.dtype} with shape {lr.shape}")
    x = lr.astype(np.float32) / 255.0
    run = (lambda v: np.asarray(generator(v, training=False), np.float32)) if eager else \
        (lambda v: np.asarray(generator.predict(v, batch_size=batch_size, verbose=0), np.float32))
    sr = _ensemble(run, x) if ensemble else run(x)
    if not np.isfinite(sr).all():
        raise BadFile(f"{getattr(generator, 'name', 'the generator')}: computes NaN or infinite values for this "
                      "input (a diverged or broken model)", "diverged")
    return np.round(np.clip(sr, 0.0, 1.0) * 255.0).astype(np.uint8)


def _ensemble(run, x: np.ndarray) -> np.ndarray:
    """The mean of ``run`` over the 8 dihedral transforms of ``x``, each turned back. One call per transform:
    batching the four of one shape measured faster for a 3 x 1000 strip (OpenVINO 0.16 -> 0.12 s) but slower
    and 2.5x the memory for a 120 x 120 code (Keras peak RSS 1.6 -> 3.9 GB; Intel Xeon, 2 cores)."""
    return sum(undo_dihedral(run(np.ascontiguousarray(dihedral(x, k))), k) for k in range(8)) / 8.0


def generator_scale(generator) -> int:
    """The generator's factor, from its output size for a tiny input (fully convolutional models)."""
    channels = generator.input_shape[-1]
    return int(generator(np.zeros((1, 4, 4, channels), np.float32), training=False).shape[1]) // 4


def _as_rgb(image: np.ndarray) -> tuple[np.ndarray, str]:
    """uint8 RGB view of any supported image, and its kind (gray | rgb | rgba)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"enhance() wants a uint8 image, got {image.dtype}; "
                         "read files with qrsr_helpers.io.read_image()")
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        if image.size == 0:
            raise ValueError(f"enhance() got an empty image (shape {image.shape})")
        gray = image.reshape(image.shape[:2])
        return np.repeat(gray[..., None], 3, axis=2), "gray"
    if image.ndim == 3 and image.shape[2] in (3, 4):
        if image.size == 0:
            raise ValueError(f"enhance() got an empty image (shape {image.shape})")
        return np.ascontiguousarray(to_rgb(image)), "rgb" if image.shape[2] == 3 else "rgba"
    raise ValueError(f"enhance() wants H x W, H x W x 3 or H x W x 4, got shape {image.shape}")


MAX_TILE = 1024  # LR px: a 1024 x 1024 tile's activations (16 x 64 generator, x4) are ~10 GB eagerly


def check_tile(tile: int) -> int:
    """``tile`` if it is a usable tile size: larger than twice the overlap, small enough to bound memory."""
    if not 2 * OVERLAP <= tile <= MAX_TILE:
        raise InvalidArgument(f"tile={tile}: must be in {2 * OVERLAP}..{MAX_TILE} px (tiles overlap by {OVERLAP} px; "
                              "larger tiles need gigabytes of memory)")
    return tile


def _tiles(length: int, tile: int, overlap: int) -> tuple[int, list[int]]:
    """Tile size and starts covering ``length`` with equal tiles of at most ``tile`` that overlap by at
    least ``overlap``. Equal sizes (150 px -> 2 x 83, not 128 + 128) waste the least compute."""
    if length <= tile:
        return length, [0]
    count = -(-(length - overlap) // (tile - overlap))
    size = -(-(length + (count - 1) * overlap) // count)
    return size, [min(i * (size - overlap), length - size) for i in range(count)]


def _sr_strips(generator, rgb: np.ndarray, tile: int, overlap: int, s: int,
               ensemble: bool = False) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(first HR row, finished uint8 RGB rows)`` top to bottom.

    Tiles are blended with a feathered window (seams do not show) into a float buffer one tile-row
    high; rows no later tile can touch are rounded and handed out. Memory: one tile's activations
    plus two strips of the output width, whatever the image height.

    A few tiles (a code's region) run eagerly: no graph to trace for an odd shape, ~3 s saved on a CPU.
    Many (a whole photo, all tiles one shape) run through ``predict``: traced once, and a graph frees
    each activation after its last use, where eager Keras keeps them all until the call ends."""
    from tqdm import tqdm

    h, w = rgb.shape[:2]
    th, ys = _tiles(h, tile, overlap)
    tw, xs = _tiles(w, tile, overlap)
    eager = len(ys) * len(xs) <= EAGER_TILES
    if len(ys) == len(xs) == 1:
        yield 0, _check_scale(super_resolve(generator, rgb[None], eager=True, ensemble=ensemble)[0], h, w, s)
        return
    ramp = lambda n: np.minimum(np.minimum(np.arange(n) + 1, np.arange(n)[::-1] + 1), overlap * s).astype(np.float32)
    window = (ramp(th * s)[:, None] * ramp(tw * s)[None, :])[..., None]
    acc = np.zeros((th * s, w * s, 3), np.float32)
    weight = np.zeros((th * s, w * s, 1), np.float32)
    top = 0  # the HR row acc[0] stands for
    with tqdm(total=len(ys) * len(xs), unit="tile", leave=False, disable=len(ys) * len(xs) < 16) as bar:
        for y in ys:
            shift = y * s - top
            if shift:
                yield top, _blend(acc[:shift], weight[:shift])
                acc[:-shift], weight[:-shift] = acc[shift:].copy(), weight[shift:].copy()
                acc[-shift:], weight[-shift:] = 0.0, 0.0
                top = y * s
            for x in xs:
                patch = super_resolve(generator, rgb[None, y:y + th, x:x + tw], eager=eager, ensemble=ensemble)[0]
                patch = _check_scale(patch, th, tw, s)
                acc[:, x * s:(x + tw) * s] += patch * window
                weight[:, x * s:(x + tw) * s] += window
                bar.update()
    yield top, _blend(acc, weight)


def _blend(acc: np.ndarray, weight: np.ndarray) -> np.ndarray:
    return np.round(acc / weight).clip(0, 255).astype(np.uint8)


def _check_scale(sr: np.ndarray, h: int, w: int, s: int) -> np.ndarray:
    if sr.shape[:2] != (h * s, w * s):
        raise ValueError(f"the generator turned {h}x{w} into {sr.shape[0]}x{sr.shape[1]}, not x{s}")
    return sr


def enhanced_strips(image: np.ndarray, generator=None, tile: int = TILE,
                    ensemble: bool = False) -> tuple[tuple[int, ...], Iterator]:
    """The x4 image's shape and an iterator of ``(first row, rows)`` of it, top to bottom, in the
    input's kind (gray/RGB/RGBA; alpha is upscaled bicubically): for writers that never hold the
    whole result (``write_png_strips``)."""
    import cv2

    from .models.registry import load_generator

    rgb, kind = _as_rgb(image)
    check_tile(tile)
    if generator is None or isinstance(generator, (str, os.PathLike)):
        generator = load_generator(generator)
    scale = generator_scale(generator)
    if scale < 2:
        raise BadFile(f"{getattr(generator, 'name', 'the generator')}: computes x{scale}, not a super-resolution",
                      "wrong model")
    h, w = rgb.shape[:2]
    shape = (h * scale, w * scale) + {"gray": (), "rgb": (3,), "rgba": (4,)}[kind]
    alpha = (cv2.resize(np.asarray(image)[..., 3], (w * scale, h * scale), interpolation=cv2.INTER_CUBIC)
             if kind == "rgba" else None)

    def strips() -> Iterator[tuple[int, np.ndarray]]:
        for top, rows in _sr_strips(generator, rgb, tile, OVERLAP, scale, ensemble):
            if kind == "gray":
                rows = cv2.cvtColor(rows, cv2.COLOR_RGB2GRAY)
            elif kind == "rgba":
                rows = np.dstack([rows, alpha[top:top + len(rows)]])
            yield top, rows

    return shape, strips()


def enhance(image: np.ndarray, generator=None, tile: int = TILE, ensemble: bool = False) -> np.ndarray:
    """x4 super-resolution of a uint8 image of any size, returned as the same kind (gray/RGB/RGBA;
    alpha is upscaled bicubically; colour under transparency is composited over white first, as a
    decoder sees it). ``generator``: a loaded generator, or a name :func:`models.registry.load_generator`
    takes (``srresnet``, ``srgan``, a ``.weights.h5`` path); the bundled one by default. The output is filled
    strip by strip: a 4000 x 3000 photo needs its 16000 x 12000 result and little more. ``ensemble``:
    the geometric self-ensemble of :func:`super_resolve` (8x the time)."""
    shape, strips = enhanced_strips(image, generator, tile, ensemble)
    out = np.empty(shape, np.uint8)
    for top, rows in strips:
        out[top:top + len(rows)] = rows
    return out
