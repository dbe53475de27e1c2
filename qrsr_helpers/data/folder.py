"""A folder of your own QR images as HR/LR pairs ("train on my data"). Every file is loaded or reported with its reason
(a data set that silently lost a third of its files trains another model). Pixels are normalised as a decoder sees
them (RGBA over white, 16-bit to 8, padded white to a square); payloads are unknown (``""``, version 0)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..errors import BadFile
from ..io import IMAGE_SUFFIXES, UNREADABLE, UNSUPPORTED, ImageError, read_rgb
from .degrade import degrade
from .pairs import Pairs

__all__ = ["load_folder", "LoadReport", "ImageFolderError", "NOT_AN_IMAGE", "TOO_SMALL", "UNREADABLE", "UNSUPPORTED"]

NOT_AN_IMAGE = "not an image"
TOO_SMALL = "too small"


class ImageFolderError(BadFile, FileNotFoundError):
    """The folder is missing, is not a folder, or holds no loadable image; the message names it."""


@dataclass
class LoadReport:
    """What :func:`load_folder` did with every file: ``loaded`` (in the order of the returned pairs)
    and ``skipped`` as ``(name, reason)``; names are relative to ``folder``."""

    folder: Path
    loaded: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        reasons = Counter(reason.split(":")[0] for _, reason in self.skipped)  # the reason's part before ':'
        counts = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
        head = f"{self.folder}: {len(self.loaded)} loaded, {len(self.skipped)} skipped"
        lines = [head + (f" ({counts})" if counts else "")]
        lines += [f"  skipped {name}: {reason}" for name, reason in self.skipped]
        return "\n".join(lines)

    __str__ = summary


def to_square(image: np.ndarray, size: int) -> np.ndarray:
    """Pad white to a centred square, resize to ``size`` (area shrinking, cubic enlarging, as OpenCV advises)."""
    h, w = image.shape[:2]
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    square = cv2.copyMakeBorder(image, top, side - h - top, left, side - w - left, cv2.BORDER_CONSTANT,
                                value=(255, 255, 255))
    if side == size:
        return square
    return cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_CUBIC)


def load_folder(path: str | Path, hr_size: int = 128, scale: int = 4, channels: int = 3,
                min_size: int | None = None, degradation: str = "clean",
                seed: int = 0) -> tuple[Pairs, LoadReport]:
    """HR/LR pairs of every image under ``path`` (sub-folders too, by name) and the report of what was skipped and
    why. An image whose longer side is below ``min_size`` (default ``hr_size``) is skipped: enlarged, it would make
    a blurry HR target. ``degradation``: ``clean`` or ``realistic`` (seeded per file by ``seed`` and its position)."""
    folder = Path(path)
    if not folder.exists():
        raise ImageFolderError(f"image folder not found: {folder}")
    if not folder.is_dir():
        raise ImageFolderError(f"not a folder: {folder} (give the folder that holds the images)")
    if channels not in (1, 3):
        raise ValueError(f"channels={channels} is not one of [1, 3]")
    if hr_size % scale:
        raise ValueError(f"scale={scale} must divide hr_size={hr_size}")
    if degradation not in ("clean", "realistic"):
        raise ValueError(f"degradation={degradation!r} is not one of ['clean', 'realistic']")
    min_size = hr_size if min_size is None else min_size
    report = LoadReport(folder)
    hr_images = []
    for file in sorted(p for p in folder.rglob("*") if not p.is_dir()):
        name = file.relative_to(folder).as_posix()
        if file.suffix.lower() not in IMAGE_SUFFIXES or not file.is_file():  # a FIFO named x.png would hang a read
            what = f"extension {file.suffix or '(none)'!r}" if file.is_file() else "not a regular file"
            report.skipped.append((name, f"{NOT_AN_IMAGE}: {what}"))
            continue
        try:
            image = read_rgb(file)
        except ImageError as error:
            report.skipped.append((name, f"{error.reason}: {str(error).removeprefix(f'{file}: ')}"))
            continue
        if max(image.shape[:2]) < min_size:
            report.skipped.append((name, f"{TOO_SMALL}: {image.shape[1]}x{image.shape[0]} < {min_size} pixels"))
            continue
        hr = to_square(image, hr_size)
        hr_images.append(cv2.cvtColor(hr, cv2.COLOR_RGB2GRAY)[..., None] if channels == 1 else hr)
        report.loaded.append(name)
    if not hr_images:
        detail = f"; {report.summary()}" if report.skipped else ""
        raise ImageFolderError(f"no loadable image in {folder}{detail}")
    hr = np.stack(hr_images)
    lr = np.stack([degrade(h, degradation, np.random.default_rng([seed, i]), scale) for i, h in enumerate(hr)])
    n = len(hr)
    pairs = Pairs(hr, lr, payloads=[""] * n, versions=np.zeros(n, np.int32), errors=[""] * n,
                  styles=["user"] * n)  # synthetic ones say clean | realistic | ...
    return pairs, report
