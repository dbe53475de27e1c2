"""The SRGAN against its control and the shipped SRResNet, paired on the same codes (issue 19).

For fresh codes of each degradation (``realistic``, ``clean``; LR 32 x 32, seed ``Config.eval_seed``) and notebook
08's photo-like scenes: decode rate per decoder and for the cascade, misreads, PSNR/SSIM and the module contrast
(mean grey of light module centres minus dark ones: what a learner sees as sharpness), then every pair of
generators compared on the same codes: codes only one of them reads, the difference with its 95 % interval and
McNemar's exact p. Every generator runs as its Keras model in float32, so only the weights differ.
Prints Markdown with the CPU model and the command; ``--out`` also writes OUT.json, OUT.md and OUT.png
(codes where the first two generators disagree). No asserts: it measures.

    python benchmarks/gan_vs_control.py --generator SRGAN=runs/srgan_bundled/srgan.weights.h5 \
        --generator control=runs/srgan_bundled/control.weights.h5 --generator SRResNet=srresnet \
        --n 1000 --scenes 1000 --out benchmarks/results/srgan_bundled/comparison
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np
from common import held_out, module_contrast  # benchmarks/common.py
from machine import cpu_model  # benchmarks/machine.py
from product_path import scene_reads

from qrsr_helpers.decode import READERS as DECODERS  # the decoders and the cascade


def codes(generators: dict, n: int) -> tuple[list[dict], list[dict], dict]:
    from qrsr_helpers.decode import decode_outcomes
    from qrsr_helpers.evaluate import image_metrics, paired_comparison
    from qrsr_helpers.inference import super_resolve

    rows, pairs_rows, disagreements = [], [], {}
    for kind, pairs in held_out(n).items():
        hr_contrast = float(np.nanmean(module_contrast(pairs.hr, pairs.hr)))
        read, images = {}, {}
        for name, generator in generators.items():
            sr = images[name] = super_resolve(generator, pairs.lr)
            outcomes = {d: decode_outcomes(sr, pairs.payloads, d) for d in DECODERS}
            read[name] = {d: outcomes[d][0] for d in DECODERS}
            psnr, ssim = image_metrics(sr, pairs.hr)
            rows.append({"degradation": kind, "generator": name, "n": n,
                         **{d: round(float(outcomes[d][0].mean()), 4) for d in DECODERS},
                         **{f"misreads_{d}": int(outcomes[d][1].sum()) for d in DECODERS},
                         "psnr": round(float(psnr.mean()), 2), "ssim": round(float(ssim.mean()), 4),
                         "contrast": round(float(np.nanmean(module_contrast(sr, pairs.hr))), 1),
                         "hr_contrast": round(hr_contrast, 1)})
            print(json.dumps(rows[-1]), flush=True)
        for a, b in itertools.combinations(generators, 2):
            for d in DECODERS:
                pairs_rows.append({"set": kind, "a": a, "b": b, "decoder": d,
                                   **paired_comparison(read[a][d], read[b][d])})
        first, second = list(generators)[:2]
        differ = np.flatnonzero(read[first]["cascade"] != read[second]["cascade"])[:6]
        disagreements[kind] = {"lr": pairs.lr[differ], "hr": pairs.hr[differ],
                               **{name: images[name][differ] for name in (first, second)},
                               "read_by_first": read[first]["cascade"][differ]}
    return rows, pairs_rows, disagreements


def scenes(generators: dict, n: int) -> tuple[list[dict], list[dict]]:
    from qrsr_helpers.evaluate import paired_comparison

    decoded, misreads, located = scene_reads(generators, n)
    rows = [{"view": name, "n": n, "located": round(located / n, 4), "cascade": round(float(decoded[name].mean()), 4),
             "misreads": misreads[name]} for name in decoded]
    paired = [{"set": "scenes", "a": a, "b": b, "decoder": "cascade", **paired_comparison(decoded[a], decoded[b])}
              for a, b in itertools.combinations(generators, 2)]
    return rows, paired


def figure(disagreements: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first, second = [k for k in next(iter(disagreements.values())) if k not in ("lr", "hr", "read_by_first")]
    rows = [(kind, i) for kind, d in disagreements.items() for i in range(len(d["lr"]))][:8]
    if not rows:
        return
    fig, axes = plt.subplots(len(rows), 4, figsize=(6.4, 1.6 * len(rows)), squeeze=False)
    for r, (kind, i) in enumerate(rows):
        d = disagreements[kind]
        won = d["read_by_first"][i]
        cells = [("LR", d["lr"][i]), (f"{first}: {'read' if won else 'not read'}", d[first][i]),
                 (f"{second}: {'not read' if won else 'read'}", d[second][i]), (f"HR ({kind})", d["hr"][i])]
        for ax, (title, image) in zip(axes[r], cells):
            ax.imshow(image, interpolation="nearest")
            ax.set_title(title, fontsize=7)
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=72)


def markdown(results: dict, command: str) -> str:
    lines = [f"{cpu_model()}; Keras float32 for every generator; command: `{command}`", "",
             "| set | generator | zxing | OpenCV | cascade | misreads z/O/c | PSNR dB | SSIM | module contrast (HR) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results["codes"]:
        lines.append(f"| {r['degradation']} | {r['generator']} | {r['zxing']:.1%} | {r['opencv']:.1%} | "
                     f"**{r['cascade']:.1%}** | {r['misreads_zxing']}/{r['misreads_opencv']}/{r['misreads_cascade']} | "
                     f"{r['psnr']:.2f} | {r['ssim']:.4f} | {r['contrast']:.1f} ({r['hr_contrast']:.1f}) |")
    for r in results.get("scenes", []):
        lines.append(f"| scenes | {r['view']} | | | **{r['cascade']:.1%}** | -/-/{r['misreads']} | | | |")
    lines += ["", "Paired on the same codes: A - B, 95 % interval, codes read only by A / only by B, McNemar exact p.",
              "", "| set | A vs B | decoder | A | B | A - B [95 % CI] | only A / only B | p |",
              "|---|---|---|---|---|---|---|---|"]
    for p in results["paired"]:
        lines.append(f"| {p['set']} | {p['a']} vs {p['b']} | {p['decoder']} | {p['rate_a']:.1%} | {p['rate_b']:.1%} | "
                     f"{p['difference']:+.1%} [{p['low']:+.1%}, {p['high']:+.1%}] | {p['only_a']} / {p['only_b']} | "
                     f"{p['mcnemar_p']:.3g} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", action="append", required=True, metavar="NAME=WEIGHTS",
                        help="a label and a bundled name or .weights.h5 (repeatable; the first two are pictured)")
    parser.add_argument("--n", type=int, default=1000, help="fresh codes per degradation")
    parser.add_argument("--scenes", type=int, default=1000, help="notebook 08's scenes, seeds 100... (0: skip)")
    parser.add_argument("--out", help="write OUT.json, OUT.md and OUT.png")
    args = parser.parse_args()
    from qrsr_helpers.models.registry import load_pretrained

    generators = {name: load_pretrained(spec, "keras") for name, spec in (g.split("=", 1) for g in args.generator)}
    rows, paired, disagreements = codes(generators, args.n)
    results = {"cpu": cpu_model(), "codes": rows, "paired": paired}
    if args.scenes:
        results["scenes"], scene_pairs = scenes(generators, args.scenes)
        results["paired"] += scene_pairs
    text = markdown(results, "python benchmarks/gan_vs_control.py " + " ".join(sys.argv[1:]))
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out + ".json").write_text(json.dumps(results, indent=1))
        Path(args.out + ".md").write_text(text)
        figure(disagreements, Path(args.out + ".png"))


if __name__ == "__main__":
    main()
