"""Find the QR code in a photo, so only the code goes through the generator: zxing-cpp's detector (also at 2x for
small images: it misses codes of 1.3-2 px per module at 1x), else contrast blobs for codes zxing does not see."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

from .decode import _side, to_gray_uint8, zxing_corners

MIN_CODE_SIDE = 16  # px: a version-1 code at under 1 px per module is not a code any more
MIN_EDGE = 24  # grey levels of local range (3 x 3 max - min): a code's modules at 1 px each still show ~50


@dataclass(frozen=True)
class Region:
    """Where a code is: ``box`` = (x0, y0, x1, y1), x1 and y1 exclusive; ``source``: zxing | contrast."""

    box: tuple[int, int, int, int]
    source: str
    score: float = 1.0
    decoded: bool = False  # zxing read it: the box is the whole symbol
    module_px: float = 0.0  # px per module of the (largest) code zxing read in it; 0: not known
    codes: int = 1  # how many codes the region holds (locate: the padded union of them)
    skipped: tuple[tuple[int, int, int, int], ...] = ()  # locate: other code-like boxes (contrast), not in box
    readable: tuple[tuple[int, int, int, int], ...] = ()  # locate: boxes of the codes zxing read, with quiet zone
    spans_image: bool = False  # locate: the codes' region covers most of the image, so box is the whole image

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]


def zxing_regions(gray: np.ndarray) -> list[Region]:
    regions: list[Region] = []
    for factor in (1, 2) if gray.size <= 1_000_000 else (1,):  # a 2x copy of a 12 MP photo would cost 48 MP
        image = gray if factor == 1 else cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        for barcode in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode, return_errors=True):
            corners = zxing_corners(barcode) / factor
            box = (*np.floor(corners.min(axis=0)).astype(int), *np.ceil(corners.max(axis=0)).astype(int) + 1)
            version = str(barcode.extra.get("Version", "")) if barcode.valid else ""
            module_px = _side(corners) / (17 + 4 * int(version)) if version.isdigit() else 0.0
            region = Region(_clip(box, gray.shape), "zxing", decoded=barcode.valid, module_px=module_px)
            if barcode.valid or _plausible(region):  # a failed detection can be a degenerate sliver
                regions.append(region)
    return _drop_overlapping(regions)  # the same code seen at 1x and 2x


def _plausible(region: Region) -> bool:
    """A code tilted up to ~60 degrees stays within 2:1 and MIN_CODE_SIDE wide; a failed detection may not."""
    short, long = sorted((region.width, region.height))
    return short >= MIN_CODE_SIDE and long <= 2 * short


def contrast_regions(gray: np.ndarray) -> list[Region]:
    """Contrast blobs, best first, searched on a pyramid so large codes are found where their modules are 1-3 px."""
    regions, factor = [], 1
    while factor == 1 or min(gray.shape) // factor >= 200:  # the coarsest level's shorter side
        level = cv2.resize(gray, (gray.shape[1] // factor, gray.shape[0] // factor), interpolation=cv2.INTER_AREA)
        regions += [Region(_clip(tuple(v * factor for v in box), gray.shape), "contrast", score)
                    for box, score in _blobs(level)]
        factor *= 2
    return _drop_overlapping(sorted(regions, key=lambda r: -r.score))


def _blobs(gray: np.ndarray) -> list[tuple[tuple[int, int, int, int], float]]:
    gradient = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    otsu, _ = cv2.threshold(gradient, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    strong = (gradient > max(otsu, MIN_EDGE)).astype(np.uint8)  # a smooth photo's Otsu split is no edge
    dense = (cv2.boxFilter(strong.astype(np.float32), -1, (9, 9)) > 0.6).astype(np.uint8)  # a blob: >60 % strong edges
    count, labels, stats, _ = cv2.connectedComponentsWithStats(dense, connectivity=8)
    found = []
    for i in range(1, count):
        x, y, w, h, area = stats[i]
        if min(w, h) < MIN_CODE_SIDE:
            continue
        mask = labels[y:y + h, x:x + w] == i
        (_, _), (rw, rh), _ = cv2.minAreaRect(cv2.findNonZero(mask.astype(np.uint8)))
        fill = area / max(rw * rh, 1.0)
        if max(rw, rh) > 2 * min(rw, rh) or fill < 0.6:  # codes are squares (seen at an angle)
            continue
        binary = cv2.threshold(gray[y:y + h, x:x + w], 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1].astype(np.int8)
        flips = [np.median(np.abs(np.diff(binary, axis=a)).sum(axis=a)) for a in (1, 0)]  # per row, per column
        if min(flips) < 4:  # median dark/light alternations per row/column: codes 4-12, edges and ramps 1-2
            continue
        score = float(gradient[y:y + h, x:x + w][mask].mean()) / 255.0 * float(fill)
        if score >= 0.1:  # codes in photos score 0.17-0.8 (mean local range / 255 x fill); smooth texture < 0.05
            found.append(((int(x), int(y), int(x + w), int(y + h)), score))
    return found


def _clip(box, shape) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return max(0, x0), max(0, y0), min(shape[1], x1), min(shape[0], y1)


def _overlap(a: tuple, b: tuple) -> float:
    """The intersection's share of the smaller box."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h / min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])) if w > 0 and h > 0 else 0.0


def _drop_overlapping(regions: list[Region]) -> list[Region]:
    kept: list[Region] = []
    for region in regions:
        if all(_overlap(region.box, k.box) < 0.5 for k in kept):
            kept.append(region)
    return kept


def pad(box: tuple[int, int, int, int], shape: tuple[int, ...], margin: float = 0.25) -> tuple[int, int, int, int]:
    """``box`` grown by ``margin`` x its size (>= 4 px) a side, clipped: room for quiet zone and generator context."""
    x0, y0, x1, y1 = box
    mx, my = max(4, int(round(margin * (x1 - x0)))), max(4, int(round(margin * (y1 - y0))))
    return _clip((x0 - mx, y0 - my, x1 + mx, y1 + my), shape)


def locate(image: np.ndarray) -> Region | None:
    """The padded union of zxing's codes (and of blobs overlapping an undecoded one: zxing may report it in part), else
    the best blob, else None; other blobs in ``skipped``, never dropped silently. Over half the image: all of it."""
    gray = to_gray_uint8(image)
    found, blobs = zxing_regions(gray), contrast_regions(gray)
    undecoded = [f for f in found if not f.decoded]
    touching = [b for b in blobs if any(_overlap(b.box, f.box) > 0.5 for f in undecoded)]
    if found:
        codes, boxes = found, np.array([r.box for r in found + touching])
        region = Region((*map(int, boxes[:, :2].min(axis=0)), *map(int, boxes[:, 2:].max(axis=0))), "zxing",
                        decoded=not undecoded, module_px=max(f.module_px for f in found), codes=len(found))
    elif blobs:
        codes, region = blobs[:1], blobs[0]
    else:
        return None
    box = pad(region.box, gray.shape)
    skipped = tuple(b.box for b in blobs if all(_overlap(b.box, c.box) == 0 for c in codes + touching)
                    and _overlap(b.box, box) < 1.0)
    if spans_image := (box[2] - box[0]) * (box[3] - box[1]) > 0.5 * gray.size:
        box, skipped = (0, 0, gray.shape[1], gray.shape[0]), ()
    readable = tuple(pad(f.box, gray.shape, margin=0.15) for f in found if f.decoded)
    return Region(box, region.source, region.score, region.decoded, region.module_px, region.codes, skipped,
                  readable, spans_image)
