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

from .decode import DecodeResult, decode_all
from .decode import decode as decode_image
from .errors import printable
from .inference import TILE, enhance, enhanced_strips
from .io import MAX_PIXELS, image_header, read_image, write_image, write_png_strips
from .ladder import Attempt, climb
from .models.registry import load_generator, runtime_label
from .payload import Payload, one_payload_per_symbol

DECODE_MAX_PIXELS = 8_000_000  # input px: its x4 result (128 MP, 384 MB as RGB) is decoded in memory


LADDER_MAX_PIXELS = TILE * TILE  # the ladder climbs for a region up to one tile: a small code, its rungs cheap
SHARP_MODULE_PX = 3.0  # px per module at which a code reads as it is: x4 is for ~1-2.5 (the generator's range)


@dataclass
class Enhanced:
    """One enhanced file: where the code was looked for and found, what each path decoded, and what the
    reader should know (``notes``: original pixels kept, a code already sharp, skipped regions, pages)."""

    source: Path
    output: Path
    box: tuple[int, int, int, int]  # the enhanced LR region (x0, y0, x1, y1)
    found_by: str  # zxing | contrast | none (whole image) | whole (asked for)
    seconds: float
    runtime: str = ""  # how the generator ran (models.registry.runtime_label)
    decoded: dict[str, dict[str, DecodeResult]] = field(default_factory=dict)  # path -> decoder -> reads
    notes: list[str] = field(default_factory=list)
    codes: int = 1  # codes located in the region
    spans_image: bool = False  # the codes' region covered most of the image: the whole image was enhanced
    kept_original: bool = False  # the enhanced pixels lost a payload the original had: output = original x4
    read_by: str = ""  # the ladder rung that read the code after the first read failed ("" none or not climbed)

    def symbols(self, path: str) -> list[Payload]:
        """One payload per symbol read on ``path`` (``original`` | ``enhanced``), decoders merged
        (``payload.one_payload_per_symbol``: one text, the decoders that read it, the rule that chose it)."""
        return one_payload_per_symbol(self.decoded.get(path, {}).values())

    @property
    def payloads(self) -> list[str]:
        """Every distinct payload read on any path, one text per symbol, in order of discovery."""
        return list(dict.fromkeys(p.text for path in self.decoded for p in self.symbols(path)))

    def describe(self) -> str:
        """What ``qrsr enhance`` prints for the file: names and payloads made safe for a terminal."""
        x0, y0, x1, y1 = self.box
        codes = f"{self.codes} codes" if self.codes > 1 else "code"
        where = {"zxing": f"{codes} found by zxing", "contrast": "code-like region (contrast)",
                 "none": "no code found: whole image", "whole": "whole image"}[self.found_by]
        if self.spans_image:
            where += ", covering most of the image: whole image"
        runtime = f", {self.runtime}" if self.runtime else ""
        lines = [f"{printable(str(self.source))} -> {printable(str(self.output))}  [{where}: {x1 - x0}x{y1 - y0} px "
                 f"at x={x0} y={y0}, {self.seconds:.2f} s{runtime}]"]
        lines += [f"  note: {printable(note)}" for note in self.notes]
        for path in self.decoded:
            symbols = self.symbols(path)
            lines += [f"  {path if i == 0 else '':<9} {_shown(symbol)}" for i, symbol in enumerate(symbols)]
            if not symbols:
                lines.append(f"  {path:<9} nothing read")
        if self.decoded and "enhanced" not in self.decoded:
            lines.append(f"  {'enhanced':<9} not decoded: the region is too large to hold whole in memory")
        if self.read_by:
            lines.append(f"  read by: {self.read_by} (the first read failed)")
        return "\n".join(lines)


def _shown(symbol: Payload) -> str:
    """A payload as printed: its text (JSON-quoted, safe for a terminal), who read it and, when the text is not
    plain ASCII, the rule that chose its charset (and the texts it overruled)."""
    text = printable(json.dumps(symbol.text, ensure_ascii=False))
    why = "" if symbol.read.charset == "ASCII" else f"; {symbol.rule}"
    if symbol.overruled:
        why += "; not " + ", ".join(printable(json.dumps(t, ensure_ascii=False)) for t in symbol.overruled)
    return f"{text} ({', '.join(symbol.readers)}{why})"


def _read(decoded: dict[str, DecodeResult]) -> set[str]:
    return {t for result in decoded.values() for t in result.texts}


def enhance_file(source: str | Path, output: str | Path, weights: str | Path | None = None, decode: bool = False,
                 whole: bool = False, tile: int = TILE, max_pixels: int = MAX_PIXELS, ensemble: bool = False,
                 generator=None, ladder=()) -> Enhanced:
    """Read ``source``, find the code(s) (``locate``), enhance a padded region around them (the whole image
    when none is found or ``whole``), write ``output`` atomically; with ``decode``, decode the original and
    the enhanced image with every decoder; ``ensemble``: average over the 8 rotations and reflections (8x
    the generator's time, more codes read). ``generator``: a loaded one (else ``weights`` is loaded, after
    the file is read, so a bad input fails fast); ``seconds`` leaves the (once per process) load out.

    Enhancing never makes a code worse: a payload read from the original region (zxing, and with ``decode``
    every decoder) must be read from the enhanced one, else the output holds the original pixels at x4
    (nearest neighbour) and a note says so — the generator, trained on 1-2.5 px per module, can damage a
    code that is already sharp (4-5 px per module). A code at ``SHARP_MODULE_PX`` or more is reported as
    not needing x4. A PNG output is streamed to disk strip by strip (bounded memory) unless it is decoded,
    which needs it whole: a region above ``DECODE_MAX_PIXELS`` is streamed and not decoded after
    enhancing (the original still is). Images above ``max_pixels`` are refused from their header.

    With ``decode``, when neither the original nor the enhancement reads anything, the rungs of ``ladder``
    (``qrsr enhance --try-harder``: :data:`ladder.LADDER`; default none: on photo-like scenes the ladder misread
    2 of 300 at a 32-px symbol and 1 of 300 at 48 px, ``benchmarks/results/photo_like.md``) are tried in order
    until one reads: its reads are reported under its name and ``read_by`` names it (its image is written when
    it replaces the enhancement, as the ensemble's does). Only for a region up to ``LADDER_MAX_PIXELS``: the
    rungs rerun the generator, and a photo where no code was located is enhanced whole."""
    from .locate import locate

    start = time.perf_counter()
    image = read_image(source, max_pixels)
    header = image_header(source)
    read_seconds = time.perf_counter() - start
    generator = generator if generator is not None else load_generator(weights)
    start = time.perf_counter() - read_seconds
    h, w = image.shape[:2]
    region = None if whole else locate(image)
    box = region.box if region else (0, 0, w, h)
    found_by = region.source if region else ("whole" if whole else "none")
    crop = image[box[1]:box[3], box[0]:box[2]]
    notes = _region_notes(region, header)
    decoded = {"original": decode_all(image)} if decode else {}
    fits = crop.shape[0] * crop.shape[1] <= DECODE_MAX_PIXELS
    must_read = (set(decode_image(crop, "zxing").texts) if fits else set()) | _read(decoded.get("original", {}))
    kept, read_by = False, ""
    if Path(output).suffix.lower() != ".png" or (fits and (decode or must_read)):
        sr = enhance(crop, generator, tile, ensemble)
        after = decode_all(sr, enhanced=True) if decode or must_read else {}
        if lost := must_read - _read(after):
            sr, after, where = _keep_original(crop, sr, box, region.readable if region else (), must_read)
            kept = True
            notes.append(f"kept the original pixels {where} (x4 nearest neighbour): the enhanced pixels lost "
                         f"{len(lost)} payload(s) the original had")
        if decode:
            decoded["enhanced"] = after
            rungs = [rung for rung in ladder if not (ensemble and rung.__name__ == "ensemble")]  # done already
            small = crop.shape[0] * crop.shape[1] <= LADDER_MAX_PIXELS  # (the ensemble of a whole photo: ~20 s)
            if rungs and small and not _read(decoded["original"]) and not _read(after):
                read_by, image, tried = climb(Attempt(crop, sr, generator, tile), rungs)
                decoded |= tried
                sr = image if image is not None else sr
        write_image(output, sr)
    else:  # streamed: memory bounded whatever the size; a region too large to decode whole is not decoded
        write_png_strips(output, *enhanced_strips(crop, generator, tile, ensemble))
        if region and region.decoded:
            notes.append("not checked that the enhanced region still reads: too large to decode whole")
    return Enhanced(Path(source), Path(output), box, found_by, time.perf_counter() - start, runtime_label(generator),
                    decoded, notes, region.codes if region else 0, bool(region and region.spans_image), kept,
                    read_by)


def _keep_original(crop: np.ndarray, sr: np.ndarray, box: tuple, readable: tuple, must_read: set[str]):
    """``sr`` with the original pixels (nearest neighbour, so every module stays as sharp as it was) put back,
    first only over the codes zxing read in the original (the small codes around them keep their enhancement),
    else everywhere. Returns the image, what it decodes and where the original was kept."""
    scale = sr.shape[0] // crop.shape[0]
    original = np.repeat(np.repeat(crop, scale, axis=0), scale, axis=1)
    if readable:
        mixed = sr.copy()
        for x0, y0, x1, y1 in readable:
            rows = slice((y0 - box[1]) * scale, (y1 - box[1]) * scale)
            cols = slice((x0 - box[0]) * scale, (x1 - box[0]) * scale)
            mixed[rows, cols] = original[rows, cols]
        after = decode_all(mixed, enhanced=True)
        if not must_read - _read(after):
            return mixed, after, f"of the {len(readable)} code(s) that read as they were"
    return original, decode_all(original, enhanced=True), "of the whole region"


def _region_notes(region, header) -> list[str]:
    """What a reader should know about where the code is: already sharp, other code-like regions left
    out, pages not read."""
    notes = []
    if region and region.module_px >= SHARP_MODULE_PX:
        notes.append(f"{'a' if region.codes > 1 else 'the'} code is already {region.module_px:.1f} px per module "
                     "and reads as it is: x4 is for codes of ~1-2.5 px per module")
    if region and region.skipped:
        boxes = ", ".join(f"{x1 - x0}x{y1 - y0} at x={x0} y={y0}" for x0, y0, x1, y1 in region.skipped[:3])
        notes.append(f"{len(region.skipped)} other code-like region(s) not enhanced ({boxes}"
                     f"{' ...' if len(region.skipped) > 3 else ''}); --whole enhances everything")
    if header is not None and header.pages > 1:
        notes.append(f"page 1 of {header.pages} enhanced (a multi-page {header.format}); the others were not read")
    return notes
