"""``qrsr evaluate``: decode rate / PSNR / SSIM of upscalers against bicubic on the same fresh codes."""

from __future__ import annotations

import argparse
import json

from . import named_by


def run(args: argparse.Namespace) -> int:
    from ..data.pairs import generate_pairs
    from ..decode import READERS
    from ..evaluate import INTERPOLATIONS, evaluate_upscalers, hr_decode_rate, upscaler
    from ..models.registry import load_pretrained, runtime_label

    upscalers = {}
    for name in dict.fromkeys([*(args.upscaler or []), "bicubic"]):  # bicubic always; all loaded before the slow part
        with named_by("--upscaler", name):
            upscalers[name] = upscaler(name, args.backend, args.precision)
    runtimes = {name: runtime_label(load_pretrained(name, args.backend, args.precision)) for name in upscalers
                if name not in INTERPOLATIONS}
    pairs = generate_pairs(args.n, args.seed, args.degradation)
    tables = evaluate_upscalers(pairs, upscalers, READERS)  # the product's cascade beside each decoder alone
    hr = hr_decode_rate(pairs)
    if args.json:
        overall = tables["overall"].reset_index().to_dict(orient="records")
        per_version = tables["per_version"].reset_index().to_dict(orient="records")
        for row in overall:
            row["per_version"] = [{k: v for k, v in r.items() if k != "upscaler"} for r in per_version
                                  if r["upscaler"] == row["upscaler"]]
        print(json.dumps({"n": args.n, "seed": args.seed, "degradation": args.degradation,
                          "hr_decode_rate": hr, "runtimes": runtimes, "upscalers": overall}, indent=2, default=float))
        return 0
    print(f"{args.n} codes, degradation={args.degradation}, seed={args.seed}; HR itself decodes: "
          f"zxing {hr['zxing']:.1%}, opencv {hr['opencv']:.1%}")
    print("".join(f"{name} runs on {runtime}\n" for name, runtime in runtimes.items()))
    print(tables["overall"].to_string())
    print("\nper QR version:\n" + tables["per_version"].to_string())
    return 0
