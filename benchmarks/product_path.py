"""The product path's decode rate (enhance + the decoding cascade ``qrsr enhance --decode`` reports), for
any generators against bicubic on the same codes: the evidence for shipping new weights (issue 15).

Three measurements, each printed as a Markdown table with the CPU model and the command (no asserts):

1. ``table``: fresh codes of each degradation (``realistic``, ``clean``; LR 32 x 32, v1-4, seed
   ``Config.eval_seed``): zxing alone, the cascade, misreads, per version;
2. ``scenes``: notebook 08's photo-like scenes (a printed label rotated in a busy 640 x 480 scene, 1.2-2.5 px
   per module, seeds 100...): locate, crop, enhance the crop, decode with the cascade;
3. ``sizes``: the size curve: the LR side of the code with its 4-module quiet zone from 20 to 48 px
   (realistic degradation), so the 32-px point is table 1's.

    python benchmarks/product_path.py --upscaler srresnet --upscaler runs/new/generator.weights.h5 \
        --n 1000 --scenes 1000 --sizes-n 300 --out benchmarks/results/product_path
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np
from common import held_out  # benchmarks/common.py
from machine import cpu_model  # benchmarks/machine.py

SIZES = (20, 24, 28, 32, 36, 40, 44, 48)


def upscalers(specs: list[str]) -> dict:
    from qrsr_helpers.evaluate import upscaler

    return {"bicubic": upscaler("bicubic"), **{spec: upscaler(spec) for spec in specs}}


def rates(sr: np.ndarray, payloads: list[str]) -> dict:
    from qrsr_helpers.decode import decode_outcomes

    zxing, _ = decode_outcomes(sr, payloads, "zxing")
    cascade, misread = decode_outcomes(sr, payloads, "cascade")
    return {"zxing": zxing, "cascade": cascade, "misread": misread}


def table(specs: list[str], n: int) -> list[dict]:
    rows = []
    for kind, pairs in held_out(n).items():
        for name, upscale in upscalers(specs).items():
            start = time.perf_counter()
            sr = upscale(pairs.lr)
            seconds = time.perf_counter() - start
            outcome = rates(sr, pairs.payloads)
            per_version = {int(v): round(float(outcome["cascade"][pairs.versions == v].mean()), 4)
                           for v in np.unique(pairs.versions)}
            rows.append({"degradation": kind, "upscaler": name, "n": n,
                         **{k: round(float(v.mean()), 4) for k, v in outcome.items()},
                         "cascade_per_version": per_version, "upscale_s_per_code": round(seconds / n, 4)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def scene_reads(generators: dict, n: int, first_seed: int = 100) -> tuple[dict, dict, int]:
    """Notebook 08's scenes ``first_seed``...: per view (the photo as is, bicubic, each generator on the located
    crop) a boolean per scene, read by the cascade or not; misreads per view; scenes located."""
    from qrsr_helpers.data.scenes import synthetic_photo
    from qrsr_helpers.decode import decode
    from qrsr_helpers.inference import Enhancer
    from qrsr_helpers.locate import locate

    names = ["photo as is", "bicubic", *generators]
    decoded = {name: np.zeros(n, bool) for name in names}
    misreads = dict.fromkeys(names, 0)
    located = 0
    for i, seed in enumerate(range(first_seed, first_seed + n)):
        shot = synthetic_photo(seed)
        region = locate(shot.image)
        views = {"photo as is": shot.image}
        if region:
            located += 1
            x0, y0, x1, y1 = region.box
            crop = shot.image[y0:y1, x0:x1]
            views["bicubic"] = cv2.resize(crop, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
            views |= {name: Enhancer(generator).enhance(crop) for name, generator in generators.items()}
        for name, image in views.items():
            result = decode(image, "cascade")
            decoded[name][i] = result.matches(shot.payload)
            misreads[name] += result.ok and not result.matches(shot.payload)
    return decoded, misreads, located


def scenes(specs: list[str], n: int, first_seed: int = 100) -> list[dict]:
    from qrsr_helpers.models.registry import load_pretrained

    generators = {spec: load_pretrained(spec, backend=None) for spec in specs}
    decoded, misreads, located = scene_reads(generators, n, first_seed)
    names = list(decoded)
    first = decoded[specs[0]]
    rows = [{"view": name, "n": n, "seeds": f"{first_seed}..{first_seed + n - 1}", "located": round(located / n, 4),
             "cascade": round(float(decoded[name].mean()), 4), "misreads": misreads[name],
             # paired with the first generator: scenes only this view reads, scenes only the first reads
             "only_this": int((decoded[name] & ~first).sum()), "only_first": int((first & ~decoded[name]).sum())}
            for name in names]
    for row in rows:
        print(json.dumps(row), flush=True)
    return rows


def sizes(specs: list[str], n: int) -> list[dict]:
    from qrsr_helpers.config import Config
    from qrsr_helpers.data.pairs import generate_pairs

    rows = []
    for side in SIZES:
        pairs = generate_pairs(n, Config.eval_seed + side, "realistic", hr_size=4 * side)
        for name, upscale in upscalers(specs).items():
            outcome = rates(upscale(pairs.lr), pairs.payloads)
            rows.append({"side_px": side, "upscaler": name, "n": n,
                         **{k: round(float(v.mean()), 4) for k, v in outcome.items()}})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def markdown(results: dict, command: str) -> str:
    lines = [f"{cpu_model()}; command: `{command}`", ""]
    if "table" in results:
        lines += ["### Fresh codes, LR 32 x 32 (product path = enhance + cascade)", "",
                  "| degradation | upscaler | zxing alone | cascade | misreads | cascade v1 / v2 / v3 / v4 | "
                  "upscale s/code |", "|---|---|---|---|---|---|---|"]
        for r in results["table"]:
            versions = " / ".join(f"{rate:.1%}" for rate in r["cascade_per_version"].values())
            lines.append(f"| {r['degradation']} | {r['upscaler']} | {r['zxing']:.1%} | **{r['cascade']:.1%}** | "
                         f"{r['misread']:.1%} | {versions} | {r['upscale_s_per_code']:.4f} |")
        lines.append("")
    if "scenes" in results:
        first = results["scenes"][2]["view"]
        lines += ["### Notebook 08's photo-like scenes (locate, crop, x4, cascade)", "",
                  f"| view | scenes (seeds) | located | decoded | misreads | read by this only / by {first} only |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {r['view']} | {r['n']} ({r['seeds']}) | {r['located']:.1%} | **{r['cascade']:.1%}** | "
                  f"{r['misreads']} | {r['only_this']} / {r['only_first']} |" for r in results["scenes"]]
        lines.append("")
    if "sizes" in results:
        names = list(dict.fromkeys(r["upscaler"] for r in results["sizes"]))
        lines += ["### Size curve: realistic codes, cascade decode rate by LR side (code + 4-module quiet zone)", "",
                  "| LR side (px) | px/module v1..v4 | " + " | ".join(names) + " |",
                  "|---|---|" + "---|" * len(names)]
        for side in SIZES:
            cells = {r["upscaler"]: r["cascade"] for r in results["sizes"] if r["side_px"] == side}
            if cells:
                pitch = f"{side / 29:.2f}..{side / 41:.2f}"
                lines.append(f"| {side} | {pitch} | " + " | ".join(f"{cells[n]:.1%}" for n in names) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upscaler", action="append", default=[], help="bundled name or .weights.h5 (repeatable)")
    parser.add_argument("--n", type=int, default=1000, help="codes per degradation in the table (0: skip)")
    parser.add_argument("--scenes", type=int, default=1000, help="photo-like scenes (0: skip)")
    parser.add_argument("--scene-seed", type=int, default=100, help="first scene seed (notebook 08 uses 100...)")
    parser.add_argument("--sizes-n", type=int, default=300, help="codes per point of the size curve (0: skip)")
    parser.add_argument("--out", help="write OUT.json and OUT.md")
    args = parser.parse_args()
    specs = args.upscaler or ["srresnet"]
    results = {}
    if args.n:
        results["table"] = table(specs, args.n)
    if args.scenes:
        results["scenes"] = scenes(specs, args.scenes, args.scene_seed)
    if args.sizes_n:
        results["sizes"] = sizes(specs, args.sizes_n)
    text = markdown(results, "python benchmarks/product_path.py " + " ".join(sys.argv[1:]))
    print(text)
    if args.out:
        Path(args.out + ".json").write_text(json.dumps({"cpu": cpu_model(), **results}, indent=1))
        Path(args.out + ".md").write_text(text)


if __name__ == "__main__":
    main()
