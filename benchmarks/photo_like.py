"""Photo-like scenes (issue 22): the product path against bicubic, by QR version and by LR pixels per module.

A fixed-seed set of ``data.scenes.synthetic_photo(seed, style=STYLE, symbol_px=S)`` (the ``photo`` style:
versions 1-10, any rotation, perspective, a bottle's curve, dot gain, glare, a box-filter sensor with noise,
JPEG; ``shrunk``: the same labels photographed larger and downscaled, as the real photos below are) in a 4:3 frame
whose long side is 3-8 times the symbol (drawn per seed; the real photos' median is ~4), each written as a PNG and
read three ways:

* **as is**: the photo itself, every decoder (``decode.decode_all``);
* **bicubic**: as is, or bicubic x4 of the region the product path enhances (the same box), decoded as an
  enhanced image is (``decode_all(..., enhanced=True)``);
* **first read** (key ``product path``): the photo and its enhancement only, as ``qrsr enhance --decode --fast``;
* **default** (key ``+ ladder``): ``Enhancer().enhance_file(path, out, decode=True)`` with its defaults, as
  ``qrsr enhance --decode`` runs it: the decode ladder climbs where the first read found nothing. One run gives
  both: the first read's reads are the original's and the enhancement's, and the ladder adds its rungs' reads.

A scene is read when the exact payload is among those read; a misread is any other payload. Where
``../shared/real_photos_dev`` exists (relative to the repository root; never copied into it) its photos shrunk
so the symbol is S px wide (``cv2.INTER_AREA``, the README procedure) are read the same way, beside the
synthetic ones: does the style decode like real photos? px/module = S / modules (quiet zone excluded).

    python benchmarks/photo_like.py --n 300 --symbol-px 32 [--styles photo shrunk realistic] [--out OUT (no suffix)]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from machine import cpu_model  # benchmarks/machine.py
from real_photos import REAL, shrunk_real_photos  # benchmarks/real_photos.py

ROOT = Path(__file__).resolve().parents[1]
BINS = (0.0, 0.7, 0.9, 1.1, 1.3, 1.6, 2.0, np.inf)  # px/module bins of the second table
VIEWS = ("as is", "bicubic", "product path", "+ ladder")


def scene_files(folder: Path, style: str, n: int, symbol_px: float, first_seed: int) -> list[dict]:
    from qrsr_helpers.data.scenes import synthetic_photo
    from qrsr_helpers.io import write_image

    folder.mkdir(parents=True)
    files = []
    for seed in range(first_seed, first_seed + n):
        width = int(round(symbol_px * np.random.default_rng([seed, 0xF4A3]).uniform(3, 8)))
        shot = synthetic_photo(seed, (width * 3 // 4, width), style=style, symbol_px=symbol_px, max_version=10)
        path = folder / f"scene{seed}.png"
        write_image(path, shot.image.copy())
        files.append({"path": path, "payload": shot.payload, "version": shot.version, "module_px": shot.module_px})
    return files


def read(files: list[dict], generator, out: Path) -> list[dict]:
    """Each file through the three views: read (exact payload) and misread (another payload), per view."""
    from qrsr_helpers.decode import decode_all
    from qrsr_helpers.inference import Enhancer, _read
    from qrsr_helpers.io import read_image
    from qrsr_helpers.ladder import LADDER

    enhancer = Enhancer(generator, ladder=LADDER)
    rows = []
    for f in files:
        result = enhancer.enhance_file(f["path"], out / "out.png", decode=True)
        image = read_image(f["path"])
        x0, y0, x1, y1 = result.box
        as_is = _read(decode_all(image))
        zoom = cv2.resize(image[y0:y1, x0:x1], None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
        texts = {"as is": as_is, "bicubic": as_is | _read(decode_all(zoom, enhanced=True)),
                 "product path": _read(result.decoded.get("original", {})) | _read(result.decoded.get("enhanced", {})),
                 "+ ladder": set(result.payloads)}
        rows.append({"file": f["path"].name, "version": int(f["version"]), "module_px": round(f["module_px"], 4),
                     "seconds": round(result.seconds, 4), "read_by": result.read_by,
                     **{view: f["payload"] in t for view, t in texts.items()},
                     **{f"{view} misread": bool(t - {f["payload"]}) for view, t in texts.items()}})
    return rows


def summary(rows: list[dict]) -> dict:
    n = len(rows)
    return {"n": n, **{view: sum(r[view] for r in rows) for view in VIEWS},
            **{f"{view} misread": sum(r[f"{view} misread"] for r in rows) for view in VIEWS},
            "mean_s": round(float(np.mean([r["seconds"] for r in rows])), 4) if rows else 0.0}


def _cells(s: dict) -> str:
    def rate(k: int) -> str:
        return f"{k}/{s['n']} ({k / s['n']:.1%})" if s["n"] else "-"

    return (f"{s['n']} | {rate(s['as is'])} | {rate(s['bicubic'])} | {rate(s['product path'])} | "
            f"**{rate(s['+ ladder'])}** | {s['as is misread']} / {s['bicubic misread']} / "
            f"{s['product path misread']} / {s['+ ladder misread']}")


HEAD = ("| scenes | as is | bicubic ×4 | first read (`--fast`) | **default** (+ ladder) | "
        "misreads as is / bicubic / first read / default |")


def markdown(sets: dict[str, list[dict]], command: str, load: float) -> str:
    lines = [f"{cpu_model()}, {len(os.sched_getaffinity(0))} cores, load average {load:.1f} at start, "
             f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; command: `{command}`", "",
             "Read = the exact payload among those read (every decoder); misread = another payload. The product "
             "path as `qrsr enhance --decode` runs it (default: the decode ladder climbs when the first read "
             "fails) and its first read alone (`--fast`).", "",
             "| set " + HEAD + " mean s/file (default) |", "|---|---|---|---|---|---|---|---|"]
    for name, rows in sets.items():
        s = summary(rows)
        lines.append(f"| {name} | {_cells(s)} | {s['mean_s']:.3f} |")
    for name, rows in sets.items():
        lines += ["", f"### {name}: by QR version", "", "| version | px/module " + HEAD,
                  "|---|---|---|---|---|---|---|---|"]
        for v in sorted({r["version"] for r in rows}):
            part = [r for r in rows if r["version"] == v]
            pitch = sorted({r["module_px"] for r in part})
            shown = f"{pitch[0]:.2f}" if len(pitch) == 1 else f"{pitch[0]:.2f}–{pitch[-1]:.2f}"
            lines.append(f"| {v} | {shown} | {_cells(summary(part))} |")
        lines += ["", f"### {name}: by LR pixels per module", "", "| px/module " + HEAD,
                  "|---|---|---|---|---|---|---|"]
        for low, high in zip(BINS[:-1], BINS[1:]):
            part = [r for r in rows if low <= r["module_px"] < high]
            if part:
                label = f"< {high:g}" if low == 0 else (f"≥ {low:g}" if high == np.inf else f"{low:g}–{high:g}")
                lines.append(f"| {label} | {_cells(summary(part))} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300, help="scenes per style and symbol size")
    parser.add_argument("--symbol-px", type=float, nargs="+", default=[32.0], help="symbol width in px (no quiet zone)")
    parser.add_argument("--styles", nargs="+", default=["photo"], choices=["photo", "shrunk", "realistic"])
    parser.add_argument("--seed", type=int, default=5000, help="first scene seed (the same seeds at every size)")
    parser.add_argument("--no-real", action="store_true", help="skip the real photos even where present")
    parser.add_argument("--weights", help="generator (default: the bundled one), e.g. a candidate's .weights.h5")
    parser.add_argument("--backend", default="auto", choices=["auto", "onnx", "keras"],
                        help="onnx runs a .weights.h5 through the ONNX export beside it, as the bundled one runs")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "photo_like"))
    args = parser.parse_args()
    from qrsr_helpers.models.registry import load_pretrained, runtime_label

    load = os.getloadavg()[0]
    generator = load_pretrained(args.weights, backend=args.backend)
    sets = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "out").mkdir()
        for size in args.symbol_px:
            inputs = {f"{style} scenes @{size:g} px":
                      scene_files(tmp / f"{style}{size:g}", style, args.n, size, args.seed) for style in args.styles}
            if not args.no_real and (REAL / "manifest.json").is_file():
                inputs[f"real photos @{size:g} px"] = shrunk_real_photos(tmp / f"real{size:g}", size)
            elif not args.no_real:
                print(f"{REAL}: absent, the real photos are skipped", file=sys.stderr)
            for name, files in inputs.items():
                start = time.perf_counter()
                sets[name] = read(files, generator, tmp / "out")
                print(f"{name}: {len(files)} files, {time.perf_counter() - start:.0f} s, "
                      f"{json.dumps(summary(sets[name]))}", file=sys.stderr, flush=True)
    command = "python benchmarks/photo_like.py " + " ".join(sys.argv[1:])
    text = markdown(sets, command, load)
    print(text)
    Path(args.out + ".md").write_text(text)
    Path(args.out + ".json").write_text(json.dumps(
        {"cpu": cpu_model(), "command": command, "weights": args.weights or "bundled",
         "runtime": runtime_label(generator), "load_average": load,
         "date": f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
         "summary": {name: summary(rows) for name, rows in sets.items()}, "rows": sets}, indent=1))


if __name__ == "__main__":
    main()
