"""A folder of your own QR images as HR/LR pairs. Every file is loaded or reported with its reason (a data set that
silently lost a third of its files trains another model); payloads are unknown (``""``, version 0)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..errors import BadFile
from ..io import IMAGE_SUFFIXES, ImageError, read_rgb
from .degrade import degrade
from .pairs import Pairs

NOT_AN_IMAGE = "not an image"
TOO_SMALL = "too small"


class ImageFolderError(BadFile, FileNotFoundError):
    """The folder is missing, is not a folder, or holds no loadable image; the message names it."""


@dataclass
class LoadReport:
    """``loaded`` (in the order of the returned pairs) and ``skipped`` as ``(name, reason)``, relative to ``folder``."""

    folder: Path
    loaded: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        reasons = Counter(reason.split(":")[0] for _, reason in self.skipped)
        counts = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
        head = f"{self.folder}: {len(self.loaded)} loaded, {len(self.skipped)} skipped" + (counts and f" ({counts})")
        return "\n".join([head] + [f"  skipped {name}: {reason}" for name, reason in self.skipped])

    __str__ = summary


def load_folder(path: str | Path, hr_size: int = 128, scale: int = 4, channels: int = 3,
                min_size: int | None = None, degradation: str = "clean",
                seed: int = 0) -> tuple[Pairs, LoadReport]:
    """HR/LR pairs of every image under ``path`` (sub-folders too) and the report. An image whose longer side is below
    ``min_size`` (default ``hr_size``) is skipped: enlarged, it would make a blurry HR target."""
    folder = Path(path)
    if not folder.exists():
        raise ImageFolderError(f"image folder not found: {folder}")
    if not folder.is_dir():
        raise ImageFolderError(f"not a folder: {folder} (give the folder that holds the images)")
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
        h, w = image.shape[:2]  # padded white to a centred square, area-shrunk or cubic-enlarged (as OpenCV advises)
        side = max(h, w)
        hr = cv2.copyMakeBorder(image, (side - h) // 2, side - h - (side - h) // 2, (side - w) // 2,
                                side - w - (side - w) // 2, cv2.BORDER_CONSTANT, value=(255, 255, 255))
        hr = cv2.resize(hr, (hr_size, hr_size), interpolation=cv2.INTER_AREA if side > hr_size else cv2.INTER_CUBIC)
        hr_images.append(cv2.cvtColor(hr, cv2.COLOR_RGB2GRAY)[..., None] if channels == 1 else hr)
        report.loaded.append(name)
    if not hr_images:
        detail = f"; {report.summary()}" if report.skipped else ""
        raise ImageFolderError(f"no loadable image in {folder}{detail}")
    hr = np.stack(hr_images)
    lr = np.stack([degrade(h, degradation, np.random.default_rng([seed, i]), scale) for i, h in enumerate(hr)])
    return Pairs(hr, lr, [""] * len(hr), np.zeros(len(hr), np.int32), [""] * len(hr), ["user"] * len(hr)), report
