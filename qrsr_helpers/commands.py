"""What each ``qrsr`` subcommand does (argument parsing lives in ``cli.py``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .cli import UserError
from .config import get_config


def run_data(args: argparse.Namespace) -> int:
    from .data.synth import load_or_generate

    config = get_config(args.profile)
    pairs = load_or_generate(config, args.purpose, n=args.n)
    print(f"{len(pairs)} {args.purpose} pairs, HR {pairs.hr.shape[1:]}, LR {pairs.lr.shape[1:]} in {config.data_dir}")
    return 0


def resolve_upscaler(spec: str):
    """An upscaler from a CLI name: an interpolation, a bundled generator (``srresnet``, ``srgan``;
    ``pretrained`` = the default one) or a ``.weights.h5`` file."""
    from .enhancer import BUNDLED, DEFAULT_MODEL, bundled_path, load_pretrained
    from .evaluate import INTERPOLATIONS, generator_upscaler, interpolation_upscaler

    if spec in INTERPOLATIONS:
        return interpolation_upscaler(spec)
    if spec in BUNDLED or spec == "pretrained":
        path = bundled_path(DEFAULT_MODEL if spec == "pretrained" else spec)
        if not path.is_file():
            raise UserError(f"bundled generator {spec!r} is not installed ({path} missing)")
        return generator_upscaler(load_pretrained(path))
    if spec.endswith(".weights.h5"):
        if not Path(spec).is_file():
            raise UserError(f"weights file not found: {spec}")
        return generator_upscaler(load_pretrained(spec))
    raise UserError(f"unknown upscaler {spec!r}: use one of {list(INTERPOLATIONS)}, {list(BUNDLED)}, 'pretrained' "
                    "or a .weights.h5 file")


def run_evaluate(args: argparse.Namespace) -> int:
    if args.n < 1:  # checked before the slow imports below
        raise UserError(f"--n {args.n}: need at least one code")
    from .data.synth import generate_pairs
    from .evaluate import evaluate_upscalers, hr_decode_rate

    names = args.upscaler or ["bicubic"]
    if "bicubic" not in names:
        names = names + ["bicubic"]  # always compared with bicubic on the same images
    upscalers = {name: resolve_upscaler(name) for name in names}
    pairs = generate_pairs(args.n, args.seed, args.degradation)
    tables = evaluate_upscalers(pairs, upscalers)
    hr = hr_decode_rate(pairs)
    if args.json:
        overall = tables["overall"].reset_index().to_dict(orient="records")
        per_version = tables["per_version"].reset_index().to_dict(orient="records")
        for row in overall:
            row["per_version"] = [{k: v for k, v in r.items() if k != "upscaler"} for r in per_version
                                  if r["upscaler"] == row["upscaler"]]
        print(json.dumps({"n": args.n, "seed": args.seed, "degradation": args.degradation,
                          "hr_decode_rate": hr, "upscalers": overall}, indent=2, default=float))
        return 0
    print(f"{args.n} codes, degradation={args.degradation}, seed={args.seed}; HR itself decodes: "
          f"zxing {hr['zxing']:.1%}, opencv {hr['opencv']:.1%}\n")
    print(tables["overall"].to_string())
    print("\nper QR version:\n" + tables["per_version"].to_string())
    return 0


def run_train(args: argparse.Namespace) -> int:
    from .training import train_from_cli

    return train_from_cli(args)


def run_enhance(args: argparse.Namespace) -> int:
    from .enhancer import cli_enhance

    return cli_enhance(args)


def run_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo as demo

    return demo(args)
