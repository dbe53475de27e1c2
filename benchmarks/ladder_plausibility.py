"""How wide is the symbol a decode-ladder rung reads, true read against misread (issue 22): the measurement behind
``ladder.PLAUSIBLE_SHARE``.

The photo-like scenes of ``benchmarks/photo_like.py`` (same seeds, ``photo`` style) go through the product path with
the plausibility rule switched off (``PLAUSIBLE_SHARE = 0``); for every file a rung read, each symbol zxing finds in
the rung's x4 image is listed with its side as a share of the image's shorter side, and whether its payload is the
scene's. Prints a Markdown table with the CPU model and the command; ``--out`` also writes it. No asserts.

    python benchmarks/ladder_plausibility.py --n 300 --symbol-px 32 48 [--weights W --backend onnx] [--out OUT.md]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from machine import cpu_model  # benchmarks/machine.py
from photo_like import scene_files  # benchmarks/photo_like.py


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--symbol-px", type=float, nargs="+", default=[32.0, 48.0])
    parser.add_argument("--seed", type=int, default=5000)
    parser.add_argument("--weights", help="generator (default: the bundled one), e.g. an earlier bundled file")
    parser.add_argument("--backend", default="auto", choices=["auto", "onnx", "keras"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    import zxingcpp

    from qrsr_helpers import decode, ladder
    from qrsr_helpers.inference import Enhancer

    seen: list[tuple[float, bytes]] = []
    plain = decode.decode_all

    def recording(image, enhanced=False, min_side=0.0):  # what each rung's image holds, symbol by symbol
        gray = decode.to_gray_uint8(image)
        for r in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode):
            side = decode._side(decode.zxing_corners(r))
            seen.append((side / min(gray.shape[:2]), r.bytes))
        return plain(image, enhanced, min_side)

    ladder.PLAUSIBLE_SHARE = 0.0
    ladder.decode_all = recording
    enhancer = Enhancer(args.weights, backend=args.backend)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.symbol_px:
            for f in scene_files(Path(tmp) / f"photo{size:g}", "photo", args.n, size, args.seed):
                seen.clear()
                result = enhancer.enhance_file(f["path"], Path(tmp) / "out.png", decode=True)
                if result.read_by:
                    for share, data in dict.fromkeys(seen):
                        rows.append((size, f["path"].name, result.read_by, share,
                                     data.decode("utf-8", "replace") == f["payload"]))
    true = sorted(share for *_, share, ok in rows if ok)
    false = sorted(share for *_, share, ok in rows if not ok)
    command = "python benchmarks/ladder_plausibility.py " + " ".join(sys.argv[1:])
    lines = [f"{cpu_model()}; command: `{command}`", "",
             f"Symbols zxing finds in the x4 image of the rung that read a file (plausibility rule off), as a share of "
             f"the image's shorter side: the scene's own code {len(true)} times "
             f"({min(true, default=0):.0%}–{max(true, default=0):.0%}), another payload {len(false)} times "
             f"({min(false, default=0):.0%}–{max(false, default=0):.0%}).", "",
             "| symbol px | scene | rung | share of the region | the scene's payload |", "|---|---|---|---|---|"]
    lines += [f"| {size:g} | {name} | {rung} | {share:.0%} | {'yes' if ok else '**no**'} |"
              for size, name, rung, share, ok in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
