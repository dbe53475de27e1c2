"""How far each step of the ladder's ``erasures`` rung gets on the real photos zxing-cpp locates and cannot correct
(issue 22): the share of wrong data modules as read off the enhanced image, then as fitted to the LR pixels, and the
Reed-Solomon budget they leave.

Truth without a second encoder: each photo of ``../shared/real_photos_dev`` (relative to the repository root;
skipped with a message where absent, never copied into the repository) is first decoded at full resolution by the
rung's own decoder (``erasures.decoded``), which must give the manifest's payload; its corrected codewords are the
symbol's bits. Then the photo is shrunk so the symbol is ``--symbol-px`` wide (the README procedure), the product
path enhances its region (``Enhancer(ladder=()).enhance_file``, as ``--fast``), and for each photo that first read
misses and whose enhancement zxing locates with a checksum error, the module values are compared with the truth:

* **enhanced**: ``erasures.sampled_values`` on the module grid of the enhancement;
* **LR fit**: ``erasures.fitted_values``, the modules that best explain the LR pixels, started from the above;
* **budget**: per block, the fewest ``2 x wrong + erased`` over erasing the 0, 1, 2, ... least certain codewords
  (what generalized minimum distance decoding needs), worst block, against the ``check - SLACK`` it may use;
* **read**: the rung's decode of those values, exact payload.

    python benchmarks/erasure_decoding.py [--symbol-px 32 24] [--out benchmarks/results/erasure_decoding.md]

``--pull-sweep 0 0.1 0.3`` instead reads photo-like scenes (``photo_like.scene_files``: the photo, shrunk and
realistic styles at 24, 32 and 48 px, ``--scenes`` each from seed 2,000,000, apart from ``photo_like.py``'s) that the
first read misses and zxing locates with a checksum error, once per value of ``erasures.BINARY_PULL``: what chose
it (written to ``benchmarks/results/erasure_pull.md`` unless ``--out``).

    python benchmarks/erasure_decoding.py --pull-sweep 0 0.1 0.3 [--scenes 150] [--out OUT.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from machine import cpu_model  # benchmarks/machine.py
from real_photos import REAL, shrunk_real_photos  # benchmarks/real_photos.py


def located(gray: np.ndarray, lost_at_checksum: bool = True):
    """zxing's first QR symbol in ``gray`` (only one lost at the checksum, unless ``lost_at_checksum`` is False):
    (version, level, mask, corners), or None."""
    import zxingcpp

    from qrsr_helpers.decode import zxing_corners
    from qrsr_helpers.erasures import zxing_format

    for found in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode, return_errors=True):
        lost = not found.valid and "Checksum" in str(found.error)
        if (lost or not lost_at_checksum) and (form := zxing_format(found)) is not None:
            return (*form, zxing_corners(found))
    return None


def unread_located(enhancer, file: dict, folder: Path):
    """For a file the first read misses and zxing locates in the enhancement with a checksum error: its region and
    the region's enhancement (8-bit gray, as the ladder's rungs get them) and :func:`located`'s answer; else None."""
    from qrsr_helpers.decode import to_gray_uint8
    from qrsr_helpers.io import read_image

    result = enhancer.enhance_file(file["path"], folder / "out.png", decode=True)
    if file["payload"] in result.payloads:
        return None
    x0, y0, x1, y1 = result.box
    crop = read_image(file["path"])[y0:y1, x0:x1]
    sr = to_gray_uint8(enhancer.enhance(crop))
    return None if (where := located(sr)) is None else (to_gray_uint8(crop), sr, where)


def budget(bits: np.ndarray, truth: np.ndarray, version: int, level: str) -> tuple[int, int]:
    """The worst block's fewest ``2 x wrong + erased`` (erasing its least certain codewords first) and its check
    codewords less SLACK."""
    from qrsr_helpers import erasures

    wrong = (np.packbits(bits > 0, axis=1).ravel() != np.packbits(truth, axis=1).ravel())
    certainty = np.abs(bits).min(axis=1)
    worst = []
    for positions, k in erasures.blocks(version, level):
        rank = np.argsort(np.argsort(certainty[positions], kind="stable"))
        need = min(2 * int((wrong[positions] & (rank >= f)).sum()) + f for f in range(len(positions) + 1))
        worst.append((need - (len(positions) - k - erasures.SLACK), need, len(positions) - k - erasures.SLACK))
    return max(worst)[1:]


def truths() -> dict[str, tuple]:
    """Per photo the rung's own full-resolution decode: (version, level, mask, the corrected stream's bits), where
    it gives the manifest's payload."""
    import json

    import cv2

    from qrsr_helpers import erasures

    found = {}
    for entry in json.loads((REAL / "manifest.json").read_text()):
        gray = cv2.imread(str(REAL / entry["file"]), cv2.IMREAD_GRAYSCALE)
        if (where := located(gray, lost_at_checksum=False)) is None:
            continue
        version, level, mask, corners = where
        (values,) = erasures.module_estimates(gray, None, corners, version, level, mask)
        read = erasures.decoded(values, version, level, mask)
        if read is not None and read.text == entry["payload"]:
            stream = erasures.corrected_stream(erasures.soft_bits(values, version, mask), version, level)
            found[Path(entry["file"]).stem] = (version, level, mask, np.unpackbits(stream[:, None], axis=1) == 1)
    return found


def pull_sweep(pulls: list[float], n: int, command: str) -> str:
    """Reads and misreads of the erasures rung with each ``erasures.BINARY_PULL`` on held-out photo-like scenes."""
    from photo_like import scene_files  # benchmarks/photo_like.py

    from qrsr_helpers import erasures
    from qrsr_helpers.inference import Enhancer

    enhancer, shipped = Enhancer(ladder=()), erasures.BINARY_PULL
    lines = [f"{cpu_model()}, {os.cpu_count()} cores, {datetime.date.today()}; command: `{command}`", "",
             "| set | located, lost at the checksum | "
             + " | ".join(f"pull {p:g}: read / misread" for p in pulls) + " |",
             "|---|---|" + "---|" * len(pulls)]
    totals = {p: [0, 0] for p in pulls}
    for style in ("photo", "shrunk", "realistic"):
        for px in (24, 32, 48):
            counts, tried = {p: [0, 0] for p in pulls}, 0
            with tempfile.TemporaryDirectory() as folder:
                for f in scene_files(Path(folder) / "in", style, n, px, 2_000_000):
                    if (found := unread_located(enhancer, f, Path(folder))) is None:
                        continue
                    crop, sr, _ = found
                    tried += 1
                    for pull in pulls:
                        erasures.BINARY_PULL = pull
                        texts = {r.text for r in erasures.read_with_erasures(sr, crop)}
                        counts[pull][0] += f["payload"] in texts
                        counts[pull][1] += bool(texts - {f["payload"]})
            erasures.BINARY_PULL = shipped
            for pull in pulls:
                totals[pull] = [a + b for a, b in zip(totals[pull], counts[pull])]
            cells = " | ".join(f"{r} / {w}" for r, w in counts.values())
            lines.append(f"| {style} @{px} px | {tried} | {cells} |")
    lines.append("| all | | " + " | ".join(f"**{r}** / {w}" for r, w in totals.values()) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbol-px", type=float, nargs="+", default=[32, 24])
    parser.add_argument("--pull-sweep", type=float, nargs="+", help="BINARY_PULL values to compare on scenes")
    parser.add_argument("--scenes", type=int, default=150, help="scenes per style and size for --pull-sweep")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.pull_sweep:
        command = "python benchmarks/erasure_decoding.py " + " ".join(sys.argv[1:])
        text = pull_sweep(args.pull_sweep, args.scenes, command)
        Path(args.out or "benchmarks/results/erasure_pull.md").write_text(text)
        print(text)
        return
    args.out = args.out or "benchmarks/results/erasure_decoding.md"
    if not (REAL / "manifest.json").is_file():
        print(f"{REAL}: absent, nothing to measure (the real photos are never part of the repository)", file=sys.stderr)
        return
    from qrsr_helpers import erasures
    from qrsr_helpers.inference import Enhancer

    truth = truths()
    enhancer = Enhancer(ladder=())
    lines = [f"{cpu_model()}, {os.cpu_count()} cores, {datetime.date.today()}; command: "
             f"`python benchmarks/erasure_decoding.py --symbol-px {' '.join(f'{p:g}' for p in args.symbol_px)}`; "
             f"the bundled generator on its default runtime. Truth: the rung's own decoder reads {len(truth)} of "
             "the 64 photos at full resolution (the manifest's payload); photos below are those the first read "
             "misses and zxing locates in the enhancement with a checksum error.", "",
             "| symbol | photo | version-level | wrong codeword bits: enhanced | LR fit | worst block 2 x wrong + "
             "erased, enhanced | LR fit | budget (check - SLACK) | read |", "|---|---|---|---|---|---|---|---|---|"]
    summary = []
    for px in args.symbol_px:
        rows = []
        with tempfile.TemporaryDirectory() as folder:
            for f in shrunk_real_photos(Path(folder) / "in", px):
                stem = f["path"].stem
                if stem not in truth:
                    continue
                if (found := unread_located(enhancer, f, Path(folder))) is None:
                    continue
                crop, sr, (version, level, mask, corners) = found
                if (version, level, mask) != truth[stem][:3]:
                    lines.append(f"| {px:g} px | {stem} | {version}-{level} | zxing's format or version is not the "
                                 f"symbol's ({truth[stem][0]}-{truth[stem][1]}, mask {truth[stem][2]}) | | | | | no |")
                    continue
                bits = truth[stem][3]
                enhanced, fitted = erasures.module_estimates(sr, crop, corners, version, level, mask)
                cells, needs = [], []
                for values in (enhanced, fitted):
                    soft = erasures.soft_bits(values, version, mask)
                    cells.append(f"{((soft > 0) != bits).mean():.1%}")
                    need, allowed = budget(soft, bits, version, level)
                    needs.append(str(need))
                reads = erasures.read_with_erasures(sr, crop)
                read = "yes" if any(r.text == f["payload"] for r in reads) else "another payload" if reads else "no"
                lines.append(f"| {px:g} px | {stem} | {version}-{level} | {' | '.join(cells)} | {' | '.join(needs)} "
                             f"| {allowed} | {read} |")
                rows.append((float(cells[1][:-1]) < float(cells[0][:-1]), read == "yes"))
        summary.append(f"{px:g} px: {len(rows)} photos compared; the LR fit has fewer wrong bits than the enhanced "
                       f"image in {sum(r[0] for r in rows)}, the rung reads {sum(r[1] for r in rows)}.")
    text = "\n".join(lines + [""] + summary) + "\n"
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
