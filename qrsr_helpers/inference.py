"""uint8 pixels in and out: :func:`super_resolve` a batch (krasserm's ``resolve()``), :class:`Enhancer` the rest
(Real-ESRGAN's ``RealESRGANer``): only the located code, as a 640 x 480 photo costs minutes on a CPU, a code < 1 s."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from .data.dihedral import dihedral, undo_dihedral
from .decode import DecodeResult, decode_all
from .decode import decode as decode_image
from .errors import BadFile, InvalidArgument, printable
from .io import MAX_PIXELS, read_image_and_header, to_rgb, write_image, write_png_strips
from .ladder import LADDER, Attempt, climb, plausible_reads
from .ladder import ensemble as ensemble_rung
from .models.registry import load_pretrained, runtime_label
from .payload import Payload, one_payload_per_symbol

TILE, OVERLAP, MAX_TILE = 128, 16, 1024  # LR px; a tile's activations, eagerly: ~0.8 GB at 128, ~10 GB at 1024
FIRST_READ = ("original", "enhanced")  # Enhanced.decoded's first paths; the ladder's rungs follow, by name
LADDER_MAX_PIXELS = TILE * TILE  # the ladder climbs for a region up to one tile: a small code, its rungs cheap
SHARP_MODULE_PX = 3.0  # px per module at which a code reads as it is: x4 is for ~1-2.5 (the generator's range)


def super_resolve(generator, lr: np.ndarray, eager: bool = False, ensemble: bool = False) -> np.ndarray:
    """A uint8 NHWC batch through ``generator`` (pixels in [0, 1]), clipped and rounded. ``eager``: one call, not
    ``predict``, which traces a graph per input shape (seconds: a waste for odd-sized tiles). ``ensemble``: EDSR's
    mean over the 8 rotations/reflections, 8x the compute for 28.0 -> 31.8 % of realistic codes read."""
    lr = np.asarray(lr)
    if lr.dtype != np.uint8 or lr.ndim != 4:
        raise ValueError(f"super_resolve() wants a uint8 NHWC batch, got {lr.dtype} with shape {lr.shape}")
    x = lr.astype(np.float32) / 255.0
    run = lambda v: np.asarray(generator(v, training=False) if eager else generator.predict(v, 64, verbose=0), "f4")
    # One call per transform: batching the 8 measured 2.5x the memory for a 120 x 120 code (Keras, 2 cores).
    sr = sum(undo_dihedral(run(np.ascontiguousarray(dihedral(x, k))), k) for k in range(8)) / 8.0 if ensemble \
        else run(x)
    if not np.isfinite(sr).all():
        raise BadFile(f"{getattr(generator, 'name', 'the generator')}: computes NaN or infinite values for this "
                      "input (a diverged or broken model)", "diverged")
    return np.round(np.clip(sr, 0.0, 1.0) * 255.0).astype(np.uint8)


def _tiles(length: int, tile: int) -> tuple[int, list[int]]:
    """Equal tiles of at most ``tile`` overlapping by ``OVERLAP`` or more (150 px: 2 x 83, not 128 + 128)."""
    if length <= tile:
        return length, [0]
    count = -(-(length - OVERLAP) // (tile - OVERLAP))
    size = -(-(length + (count - 1) * OVERLAP) // count)
    return size, [min(i * (size - OVERLAP), length - size) for i in range(count)]


@dataclass
class Enhanced:
    source: Path
    output: Path
    box: tuple[int, int, int, int]  # the enhanced LR region (x0, y0, x1, y1)
    found_by: str  # zxing | contrast | none (whole image) | whole (asked for)
    seconds: float
    runtime: str  # how the generator ran (models.registry.runtime_label)
    decoded: dict[str, dict[str, DecodeResult]] = field(default_factory=dict)  # path -> decoder -> reads
    notes: list[str] = field(default_factory=list)
    codes: int = 1  # codes located in the region
    spans_image: bool = False  # the codes' region covered most of the image: the whole image was enhanced
    read_by: str = ""  # the ladder rung that read the code after the first read failed ("" none or not climbed)

    def symbols(self, path: str) -> list[Payload]:
        return one_payload_per_symbol(self.decoded.get(path, {}).values())

    @property
    def payloads(self) -> list[str]:
        return list(dict.fromkeys(p.text for path in self.decoded for p in self.symbols(path)))

    def describe(self) -> str:
        x0, y0, x1, y1 = self.box
        codes = f"{self.codes} codes" if self.codes > 1 else "code"
        where = {"zxing": f"{codes} found by zxing", "contrast": "code-like region (contrast)",
                 "none": "no code found: whole image", "whole": "whole image"}[self.found_by]
        where += ", covering most of the image: whole image" if self.spans_image else ""
        lines = [f"{printable(str(self.source))} -> {printable(str(self.output))}  [{where}: {x1 - x0}x{y1 - y0} px "
                 f"at x={x0} y={y0}, {self.seconds:.2f} s, {self.runtime}]"]
        lines += [f"  note: {printable(note)}" for note in self.notes]
        symbols = {path: self.symbols(path) for path in self.decoded}
        for path, read in symbols.items():
            shown = [_shown(s) for s in read] or (["nothing read"] if path in FIRST_READ else [])
            lines += [f"  {path if i == 0 else '':<9} {text}" for i, text in enumerate(shown)]
        if unread := [path for path, read in symbols.items() if path not in FIRST_READ and not read]:
            lines.append(f"  {'ladder':<9} nothing read ({', '.join(unread)})")
        if self.decoded and "enhanced" not in self.decoded:
            lines.append(f"  {'enhanced':<9} not decoded: the region is too large to hold whole in memory")
        if self.read_by:
            lines.append(f"  read by: {self.read_by} (the first read failed)")
        return "\n".join(lines)


def _shown(symbol: Payload) -> str:
    quoted = lambda text: printable(json.dumps(text, ensure_ascii=False))
    why = ("" if symbol.read.charset == "ASCII" else f"; {symbol.rule}") + \
        ("; not " + ", ".join(map(quoted, symbol.overruled)) if symbol.overruled else "")
    return f"{quoted(symbol.text)} ({', '.join(symbol.readers)}{why})"


def _read(decoded: dict[str, DecodeResult]) -> set[str]:
    return {t for result in decoded.values() for t in result.texts}


class Enhancer:
    """x4 by one generator (a model or a ``load_pretrained`` name), loaded on first use and reused for every image and
    file; ``ladder``: the rungs :meth:`enhance_file` climbs when nothing reads (``()``: ``qrsr enhance --fast``)."""

    def __init__(self, generator=None, backend: str | None = None, precision: str | None = None,
                 tile: int | None = None, ensemble: bool = False, ladder=LADDER):
        self._spec, self.backend, self.precision = generator, backend, precision
        self.tile, self.ensemble, self.ladder = TILE if tile is None else tile, ensemble, tuple(ladder)
        if not 2 * OVERLAP <= self.tile <= MAX_TILE:
            raise InvalidArgument(f"tile={self.tile}: must be in {2 * OVERLAP}..{MAX_TILE} px (tiles overlap by "
                                  f"{OVERLAP} px; larger tiles need gigabytes of memory)")

    @cached_property
    def generator(self):
        named = self._spec is None or isinstance(self._spec, (str, os.PathLike))
        return load_pretrained(self._spec, self.backend, self.precision) if named else self._spec

    @cached_property
    def scale(self) -> int:
        """Measured on a tiny input, never assumed."""
        generator = self.generator
        scale = int(generator(np.zeros((1, 4, 4, generator.input_shape[-1]), np.float32), training=False).shape[1]) // 4
        if scale < 2:
            raise BadFile(f"{getattr(generator, 'name', 'the generator')}: computes x{scale}, not a super-resolution",
                          "wrong model")
        return scale

    def enhance(self, image: np.ndarray, ensemble: bool | None = None) -> np.ndarray:
        """x4 of a uint8 gray/RGB/RGBA image of any size, of the same kind (alpha upscaled bicubically, colour
        composited over white first, as a decoder sees it)."""
        shape, strips = self.strips(image, ensemble)
        out = np.empty(shape, np.uint8)
        for top, rows in strips:
            out[top:top + len(rows)] = rows
        return out

    def strips(self, image: np.ndarray, ensemble: bool | None = None) -> tuple[tuple[int, ...], Iterator]:
        """The x4 image's shape and its ``(first row, rows)`` top to bottom, for ``io.write_png_strips``."""
        import cv2

        image = np.asarray(image)
        channels = 1 if image.ndim == 2 else image.shape[2] if image.ndim == 3 else 0
        if image.dtype != np.uint8 or channels not in (1, 3, 4) or image.size == 0:
            raise ValueError(f"enhance() wants a non-empty uint8 image, H x W, H x W x 3 or H x W x 4, got "
                             f"{image.dtype} with shape {image.shape}; read files with qrsr_helpers.io.read_image()")
        h, w, s = *image.shape[:2], self.scale
        alpha = cv2.resize(image[..., 3], (w * s, h * s), interpolation=cv2.INTER_CUBIC) if channels == 4 else None
        as_kind = {1: lambda top, rows: cv2.cvtColor(rows, cv2.COLOR_RGB2GRAY), 3: lambda top, rows: rows,
                   4: lambda top, rows: np.dstack([rows, alpha[top:top + len(rows)]])}[channels]
        rows = self._rgb_strips(to_rgb(image), self.ensemble if ensemble is None else ensemble)
        return (h * s, w * s) + ((channels,) if channels > 1 else ()), ((top, as_kind(top, r)) for top, r in rows)

    def _rgb_strips(self, rgb: np.ndarray, ensemble: bool) -> Iterator[tuple[int, np.ndarray]]:
        """Tiles blended with a feathered window into a buffer one tile-row high. A few tiles (a code) run eagerly: no
        graph to trace; many (a photo) through ``predict``: traced once, and a graph frees activations as it goes."""
        from tqdm import tqdm

        h, w, s = *rgb.shape[:2], self.scale
        (th, ys), (tw, xs) = _tiles(h, self.tile), _tiles(w, self.tile)
        ramp = lambda n: np.minimum(np.minimum(np.arange(n) + 1, np.arange(n)[::-1] + 1), OVERLAP * s)
        window = (ramp(th * s)[:, None] * ramp(tw * s)[None, :])[..., None].astype(np.float32)
        acc = np.zeros((th * s, w * s, 4), np.float32)  # RGB x window, then the window's sum
        blend = lambda acc: np.round(acc[..., :3] / acc[..., 3:]).clip(0, 255).astype(np.uint8)
        top = 0  # the HR row acc[0] stands for
        with tqdm(total=len(ys) * len(xs), unit="tile", leave=False, disable=len(ys) * len(xs) < 16) as bar:
            for y in ys:
                if shift := y * s - top:
                    yield top, blend(acc[:shift])
                    acc, top = np.roll(acc, -shift, axis=0), y * s
                    acc[-shift:] = 0.0
                for x in xs:
                    patch = super_resolve(self.generator, rgb[None, y:y + th, x:x + tw],
                                          eager=len(ys) * len(xs) <= 4, ensemble=ensemble)[0]
                    if patch.shape[:2] != (th * s, tw * s):
                        raise ValueError(f"the generator turned {th}x{tw} into {patch.shape[0]}x{patch.shape[1]}, "
                                         f"not x{s}")
                    acc[:, x * s:(x + tw) * s] += np.concatenate([patch * window, window], axis=2)
                    bar.update()
        yield top, blend(acc)

    def enhance_file(self, source: str | Path, output: str | Path, decode: bool = False, whole: bool = False,
                     max_pixels: int = MAX_PIXELS) -> Enhanced:
        """The padded region of the code(s) in ``source`` (else the whole image), enhanced into ``output`` (a PNG in
        strips unless decoded); the generator loads after the read (a bad input fails fast), untimed in ``seconds``."""
        from .locate import Region, locate

        start, (image, header) = time.perf_counter(), read_image_and_header(source, max_pixels)
        loading, runtime = time.perf_counter(), runtime_label(self.generator)
        start += time.perf_counter() - loading
        h, w = image.shape[:2]
        region = (None if whole else locate(image)) or Region((0, 0, w, h), "whole" if whole else "none", codes=0)
        (x0, y0, x1, y1), read_by = region.box, ""
        crop = image[y0:y1, x0:x1]
        notes = [f"{'a' if region.codes > 1 else 'the'} code is already {region.module_px:.1f} px per module and reads "
                 "as it is: x4 is for codes of ~1-2.5 px per module"] if region.module_px >= SHARP_MODULE_PX else []
        if region.skipped:
            boxes = ", ".join(f"{b[2] - b[0]}x{b[3] - b[1]} at x={b[0]} y={b[1]}" for b in region.skipped[:3])
            notes.append(f"{len(region.skipped)} other code-like region(s) not enhanced ({boxes}"
                         f"{' ...' if len(region.skipped) > 3 else ''}); --whole enhances everything")
        if header.pages > 1:
            notes.append(f"page 1 of {header.pages} enhanced (a multi-page {header.format}); the others were not read")
        decoded = {"original": decode_all(image)} if decode else {}
        fits = crop.shape[0] * crop.shape[1] <= 8_000_000  # its x4 (128 MP, 384 MB as RGB) decodes in memory
        must_read = (set(decode_image(crop, "zxing").texts) if fits else set()) | _read(decoded.get("original", {}))
        if Path(output).suffix.lower() != ".png" or (fits and (decode or must_read)):
            sr = self.enhance(crop)
            # A region located by contrast is the code's box: a symbol spanning little of it is one the generator
            # made up inside the code (a 40-px "0392" in a 172-px version 2, benchmarks/results/shrunk_finetune).
            reads = plausible_reads if region.source == "contrast" else lambda image: decode_all(image, enhanced=True)
            after = reads(sr) if decode or must_read else {}
            # Never worse than the original: trained on 1-2.5 px per module, the generator can damage a sharp code.
            if lost := must_read - _read(after):
                sr, after, where = _keep_original(crop, sr, region, must_read)
                notes.append(f"kept the original pixels {where} (x4 nearest neighbour): the enhanced pixels lost "
                             f"{len(lost)} payload(s) the original had")
            if decode:
                decoded["enhanced"] = after
                rungs = [rung for rung in self.ladder if not (self.ensemble and rung is ensemble_rung)]  # done
                small = crop.shape[0] * crop.shape[1] <= LADDER_MAX_PIXELS  # (the ensemble of a whole photo: ~20 s)
                if rungs and small and not _read(decoded["original"]) | _read(after):
                    read_by, sr, tried = climb(Attempt(crop, sr, self), rungs)
                    decoded |= tried
            write_image(output, sr)
        else:  # streamed: memory bounded whatever the size; a region too large to decode whole is not decoded
            write_png_strips(output, *self.strips(crop))
            if region.decoded:
                notes.append("not checked that the enhanced region still reads: too large to decode whole")
        return Enhanced(Path(source), Path(output), region.box, region.source, time.perf_counter() - start, runtime,
                        decoded, notes, region.codes, region.spans_image, read_by)


def _keep_original(crop: np.ndarray, sr: np.ndarray, region, must_read: set[str]):
    """``sr`` with the original pixels (x4 nearest) over the codes zxing read, else everywhere; its reads; where."""
    scale = sr.shape[0] // crop.shape[0]
    up = lambda a: np.repeat(np.repeat(a, scale, axis=0), scale, axis=1)
    keep = np.zeros(crop.shape[:2], bool)
    for x0, y0, x1, y1 in region.readable:
        keep[y0 - region.box[1]:y1 - region.box[1], x0 - region.box[0]:x1 - region.box[0]] = True
    original = up(crop)
    mixed = np.where(up(keep).reshape(sr.shape[:2] + (1,) * (sr.ndim - 2)), original, sr)
    if region.readable and not must_read - _read(after := decode_all(mixed, enhanced=True)):
        return mixed, after, f"of the {len(region.readable)} code(s) that read as they were"
    return original, decode_all(original, enhanced=True), "of the whole region"
