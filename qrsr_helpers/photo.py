"""One photo, end to end: find the code, enhance a padded region around it, write it, decode it.

What ``qrsr enhance`` and notebook 08 do per file. Only the code goes through the generator: the
bundled 16 x 64 generator runs ~10 codes of 32 x 32 px a second on a laptop CPU, so a whole
640 x 480 photo costs minutes and the code inside it a fraction of a second.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .inference import TILE, enhance, enhanced_strips
from .io import MAX_PIXELS, read_image, write_image, write_png_strips
from .models.registry import load_generator, runtime_label

DECODE_MAX_PIXELS = 8_000_000  # input px: its x4 result (128 MP, 384 MB as RGB) is decoded in memory


@dataclass
class Enhanced:
    """One enhanced file: where the code was looked for and found, and what each path decoded."""

    source: Path
    output: Path
    box: tuple[int, int, int, int]  # the enhanced LR region (x0, y0, x1, y1)
    found_by: str  # zxing | contrast | none (whole image) | whole (asked for)
    seconds: float
    runtime: str = ""  # how the generator ran (models.registry.runtime_label)
    decoded: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # path -> decoder -> texts

    @property
    def payloads(self) -> list[str]:
        """Every distinct payload read by any decoder on any path, in order of discovery."""
        return list(dict.fromkeys(t for by_decoder in self.decoded.values() for texts in by_decoder.values()
                                  for t in texts))

    def describe(self) -> str:
        x0, y0, x1, y1 = self.box
        where = {"zxing": "code found by zxing", "contrast": "code-like region (contrast)",
                 "none": "no code found: whole image", "whole": "whole image"}[self.found_by]
        runtime = f", {self.runtime}" if self.runtime else ""
        lines = [f"{self.source} -> {self.output}  [{where}: {x1 - x0}x{y1 - y0} px at x={x0} y={y0}, "
                 f"{self.seconds:.2f} s{runtime}]"]
        for path, by_decoder in self.decoded.items():
            texts = list(dict.fromkeys(t for ts in by_decoder.values() for t in ts))
            readers = ", ".join(d for d, ts in by_decoder.items() if ts)
            shown = "; ".join(json.dumps(t, ensure_ascii=False) for t in texts)
            lines.append(f"  {path:<9} {shown} ({readers})" if texts else f"  {path:<9} nothing read")
        if self.decoded and "enhanced" not in self.decoded:
            lines.append(f"  {'enhanced':<9} not decoded: the region is too large to hold whole in memory")
        return "\n".join(lines)


def decode_all(image: np.ndarray, enhanced: bool = False) -> dict[str, tuple[str, ...]]:
    """What every decoder reads in ``image``; in an ``enhanced`` (x4) image also the cascade of looks
    (``decode.read_cascade``, which refuses symbols too small for a x4 image)."""
    from .decode import DECODERS, READERS, decode

    return {decoder: decode(image, decoder).texts for decoder in (READERS if enhanced else DECODERS)}


def enhance_file(source: str | Path, output: str | Path, weights: str | Path | None = None, decode: bool = False,
                 whole: bool = False, tile: int = TILE, max_pixels: int = MAX_PIXELS,
                 ensemble: bool = False) -> Enhanced:
    """Read ``source``, find the code (``locate``), enhance a padded region around it (the whole image
    when none is found or ``whole``), write ``output`` atomically; with ``decode``, decode the
    original and the enhanced image with every decoder; ``ensemble``: average over the 8 rotations and
    reflections (8x the generator's time, more codes read). The file is read before the generator is
    loaded, so a bad input fails fast; ``seconds`` leaves the (once per process) model load out.
    A PNG output is streamed to disk strip by strip (bounded memory) unless it is decoded, which needs
    it whole: a region above ``DECODE_MAX_PIXELS`` is streamed and not decoded after enhancing (the
    original still is). Images above ``max_pixels`` are refused from their header."""
    from .locate import locate

    start = time.perf_counter()
    image = read_image(source, max_pixels)
    read_seconds = time.perf_counter() - start
    generator = load_generator(weights)
    start = time.perf_counter() - read_seconds
    h, w = image.shape[:2]
    region = None if whole else locate(image)
    box = region.box if region else (0, 0, w, h)
    found_by = region.source if region else ("whole" if whole else "none")
    crop = image[box[1]:box[3], box[0]:box[2]]
    decoded = {"original": decode_all(image)} if decode else {}
    in_memory = Path(output).suffix.lower() != ".png" or (decode and crop.shape[0] * crop.shape[1] <= DECODE_MAX_PIXELS)
    if in_memory:
        sr = enhance(crop, generator, tile, ensemble)
        if decode:
            decoded["enhanced"] = decode_all(sr, enhanced=True)
        write_image(output, sr)
    else:  # streamed: memory bounded whatever the size; a region too large to decode whole is not decoded
        write_png_strips(output, *enhanced_strips(crop, generator, tile, ensemble))
    return Enhanced(Path(source), Path(output), box, found_by, time.perf_counter() - start, runtime_label(generator),
                    decoded)
