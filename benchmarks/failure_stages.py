"""Where a real photo that ``qrsr enhance --decode`` does not read is lost (issue 22): is the code not found in the
enhanced image, or found and lost at error correction?

For each of the 64 photos of ``../shared/real_photos_dev`` (relative to the repository root; skipped with a message
where absent, never copied into the repository) shrunk so the symbol is ``--symbol-px`` wide, ``Enhancer()`` reads
it as the default ``qrsr enhance --decode`` does (first read, then the ladder). For each photo it does not read,
zxing-cpp is asked once more of the enhanced image it wrote, with ``return_errors=True``: a QR code it locates but
cannot decode comes back with the stage that failed (``Checksum``: Reed-Solomon found too many wrong codewords;
``Format``: the format or version bits; "another payload": decoded, but not the photo's). "not located": no
finder-pattern triple at all.
Why it matters: a code located but lost at the checksum has its geometry right and too many wrong modules; decoding
with erasures (modules the generator is unsure of) could recover some, a better locator could not.

    python benchmarks/failure_stages.py [--symbol-px 32 24] [--out benchmarks/results/failure_stages.md]
"""

from __future__ import annotations

import argparse
import collections
import datetime
import os
import sys
import tempfile
from pathlib import Path

from machine import cpu_model  # benchmarks/machine.py
from real_photos import REAL, shrunk_real_photos  # benchmarks/real_photos.py


def stages(enhanced: Path, payload: str) -> set[str]:
    """What zxing-cpp makes of an enhanced image that gave no read: the failing stage of each QR code it locates
    (empty: none located)."""
    import cv2
    import zxingcpp

    found = zxingcpp.read_barcodes(cv2.imread(str(enhanced), cv2.IMREAD_GRAYSCALE),
                                   formats=zxingcpp.BarcodeFormat.QRCode, return_errors=True)
    return {str(b.error.type).split(".")[-1] if b.error else "read" if b.text == payload else "another payload"
            for b in found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbol-px", type=float, nargs="+", default=[32, 24])
    parser.add_argument("--out", default="benchmarks/results/failure_stages.md")
    args = parser.parse_args()
    if not (REAL / "manifest.json").is_file():
        print(f"{REAL}: absent, nothing to measure (the real photos are never part of the repository)", file=sys.stderr)
        return
    from qrsr_helpers.inference import Enhancer

    enhancer = Enhancer()
    lines = [f"{cpu_model()}, {os.cpu_count()} cores, {datetime.date.today()}; command: "
             f"`python benchmarks/failure_stages.py --symbol-px {' '.join(f'{p:g}' for p in args.symbol_px)}`; "
             "the bundled generator on its default runtime, default `qrsr enhance --decode` (with the ladder).", "",
             "| symbol | versions | photos | read | not read: not located | located, lost at the checksum | "
             "located, other stage | photos not read |", "|---|---|---|---|---|---|---|---|"]
    for px in args.symbol_px:
        with tempfile.TemporaryDirectory() as folder:
            files = shrunk_real_photos(Path(folder) / "in", px)
            rows = collections.defaultdict(collections.Counter)
            names = collections.defaultdict(list)
            for f in files:
                enhanced = Path(folder) / "out" / f["path"].name
                group = "1–4" if f["version"] <= 4 else "5 and up"
                result = enhancer.enhance_file(f["path"], enhanced, decode=True)
                rows[group]["photos"] += 1
                if f["payload"] in result.payloads:
                    rows[group]["read"] += 1
                    continue
                kinds = stages(enhanced, f["payload"])
                what = "located: " + " + ".join(sorted(kinds)) if kinds else "not located"
                column = "not located" if not kinds else "checksum" if kinds == {"Checksum"} else "other"
                rows[group][column] += 1
                names[group].append(f"{f['path'].stem} (v{f['version']}: {what})")
        for group in ("1–4", "5 and up"):
            c = rows[group]
            counts = " | ".join(str(c[k]) for k in ("photos", "read", "not located", "checksum", "other"))
            lines.append(f"| {px:g} px | {group} | {counts} | {'; '.join(names[group])} |")
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
