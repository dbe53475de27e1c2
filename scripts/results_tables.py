"""Render the model card's / README's evaluation tables (markdown) from `qrsr evaluate --json` outputs.

    for d in realistic clean; do
      qrsr evaluate --upscaler nearest --upscaler bicubic --upscaler lanczos --upscaler srresnet --precision fp32 \\
          --n 1000 --degradation $d --seed 777001 --json > benchmarks/results/model_card_v2/srresnet_$d.json
      qrsr evaluate --upscaler srgan --n 1000 --degradation $d --seed 777001 --precision fp32 --json \\
          > benchmarks/results/model_card_v2/srgan_$d.json
    done
    python scripts/results_tables.py benchmarks/results/model_card_v2

The shipped tables (benchmarks/results/model_card_v2, the fine-tuned SRResNet of 2026-11-27) add
``--precision fp32`` (the fast path's float32: the same decode results as Keras, tests/test_exported.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def load(folder: Path, degradation: str) -> tuple[dict, list[dict]]:
    rows, hr = {}, None
    for path in sorted(folder.glob(f"*_{degradation}.json")):
        result = json.loads(path.read_text())
        hr = result["hr_decode_rate"]
        for row in result["upscalers"]:
            rows[row["upscaler"]] = row  # bicubic appears in every file: the same codes, the same numbers
    order = ["nearest", "bilinear", "bicubic", "lanczos", "srresnet", "srgan"]
    return hr, sorted(rows.values(), key=lambda r: order.index(r["upscaler"]) if r["upscaler"] in order else 99)


def table(folder: Path, degradation: str) -> str:
    hr, rows = load(folder, degradation)
    versions = sorted({v["version"] for r in rows for v in r["per_version"]})
    product = "decode_rate_cascade" in rows[0]  # the product's cascade (qrsr evaluate since issue 15)
    rate = "decode_rate_cascade" if product else "decode_rate_zxing"
    label = "cascade" if product else "zxing"
    head = (["upscaler", "zxing", "OpenCV"] + (["**cascade** (product)", "misreads"] if product else [])
            + ["PSNR dB", "SSIM"] + [f"{label} v{v}" for v in versions])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        per = {v["version"]: v[rate] for v in r["per_version"]}
        extra = [f"**{r['decode_rate_cascade']:.1%}**", f"{r['misread_rate_cascade']:.1%}"] if product else []
        cells = ([r["upscaler"], f"{r['decode_rate_zxing']:.1%}", f"{r['decode_rate_opencv']:.1%}"] + extra
                 + [f"{r['psnr']:.2f}", f"{r['ssim']:.3f}"] + [f"{per.get(v, float('nan')):.1%}" for v in versions])
        lines.append("| " + " | ".join(cells) + " |")
    hr_cells = ["HR itself", f"{hr['zxing']:.1%}", f"{hr['opencv']:.1%}"] + [""] * (len(head) - 3)
    lines.append("| " + " | ".join(hr_cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results/model_card_v2")
    for degradation in ("realistic", "clean"):
        print(f"\n**{degradation}** degradation, 1,000 fresh codes (seed 777001), LR 32x32, versions 1-4:\n")
        print(table(folder, degradation))
