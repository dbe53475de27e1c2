"""The real photos of ``../shared/real_photos_dev`` (relative to the repository root; never copied into it), shrunk
the way its README asks: ``cv2.INTER_AREA`` by ``symbol_px / symbol width`` so the symbol is ``symbol_px`` wide,
saved as PNG. Shared by the benchmarks that report on them (``decode_ladder.py``, ``photo_like.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2

REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "real_photos_dev"


def shrunk_real_photos(folder: Path, symbol_px: float) -> list[dict]:
    """Each photo shrunk into ``folder`` (created): ``path``, ``payload``, ``version``, ``module_px`` (LR pixels
    per module, quiet zone excluded)."""
    manifest = json.loads((REAL / "manifest.json").read_text())
    folder.mkdir(parents=True)
    files = []
    for entry in manifest:
        image = cv2.imread(str(REAL / entry["file"]), cv2.IMREAD_COLOR)
        scale = symbol_px / entry["symbol_px"]
        path = folder / (Path(entry["file"]).stem + ".png")
        cv2.imwrite(str(path), cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
        files.append({"path": path, "payload": entry["payload"], "version": entry["version"],
                      "module_px": symbol_px / (17 + 4 * entry["version"])})
    return files
