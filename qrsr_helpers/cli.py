"""The ``qrsr`` command: data, train, enhance, evaluate, demo.

Each subcommand is a thin shell around a helper function, so the notebooks and the CLI run the same
code. Errors a user can fix (a missing file, a bad value) print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys

from .config import PROFILES, ConfigError

EXIT_USAGE = 2


class UserError(Exception):
    """A problem with the user's input: reported in one line, exit status 2."""


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qrsr", description="QR code super-resolution with SRGAN.")
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="generate HR/LR pairs into data/generated")
    data.add_argument("--profile", choices=PROFILES)
    data.add_argument("--n", type=int, help="number of codes (default: the profile's)")
    data.add_argument("--purpose", choices=("train", "eval"), default="train")

    evaluate = sub.add_parser("evaluate", help="decode rate / PSNR / SSIM of an upscaler vs bicubic")
    evaluate.add_argument("--upscaler", action="append",
                          help="nearest | bilinear | bicubic | lanczos | srresnet | srgan | pretrained | path to .weights.h5 (repeatable)")
    evaluate.add_argument("--n", type=int, default=1000)
    evaluate.add_argument("--degradation", choices=("clean", "realistic"), default="realistic")
    evaluate.add_argument("--seed", type=int, default=777_001)
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of tables")

    train = sub.add_parser("train", help="SRResNet pre-training and/or SRGAN fine-tuning")
    train.add_argument("--profile", choices=PROFILES)
    train.add_argument("--stage", choices=("pretrain", "gan", "both"), default="both")
    train.add_argument("--out", help="run folder (default: runs/<profile>)")
    train.add_argument("--init", help="generator weights to start from (e.g. the bundled ones: 'pretrained')")
    train.add_argument("--epochs", type=int, help="override the profile's epochs for the chosen stage(s)")
    train.add_argument("--minutes", type=float, help="wall-clock budget per stage (cosine LR decay, then stop)")

    enhance = sub.add_parser(
        "enhance", help="super-resolve QR code image(s) and optionally decode them",
        description="Find the QR code in each image (PNG, JPEG, WebP, BMP, TIFF; gray/RGB/RGBA; 8/16-bit), "
                    "enhance a padded region around it x4 (the whole image, tiled, when no code is found) and "
                    "write NAME.x4.png (8-bit) beside the input. Exit status: 0 done (with --decode: a payload "
                    "was read), 1 --decode read nothing, 2 an input was missing or unreadable.")
    enhance.add_argument("inputs", nargs="+", help="image files, folders or globs")
    enhance.add_argument("-o", "--out", help="output file (one input) or folder")
    enhance.add_argument("--scale", type=int, default=4, choices=(4,))
    enhance.add_argument("--decode", action="store_true", help="decode before and after; exit 1 if nothing was read")
    enhance.add_argument("--weights", help="srresnet | srgan | a .weights.h5 file (default: srresnet)")
    enhance.add_argument("--whole", action="store_true", help="enhance the whole image, not just the code")
    enhance.add_argument("--tile", type=int, default=128,
                         help="input tile size in px for large regions: smaller needs less memory (default 128)")

    demo = sub.add_parser("demo", help="the bundled generator vs bicubic on fresh codes, with a figure")
    demo.add_argument("--n", type=int, default=100, help="codes to compare (default 100: under a minute on 2 cores)")
    demo.add_argument("--out", default="qrsr_demo.png")
    demo.add_argument("--seed", type=int, default=777_001)
    demo.add_argument("--weights", help="srresnet | srgan | a .weights.h5 file (default: srresnet)")
    return parser


def main(argv: list[str] | None = None) -> int:
    _quiet_tensorflow()
    args = build_parser().parse_args(argv)
    from . import commands

    try:
        return int(getattr(commands, f"run_{args.command}")(args) or 0)
    except (UserError, ConfigError, FileNotFoundError) as error:
        print(f"qrsr {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    # `python -m qrsr_helpers.cli` runs this file as __main__: call the package's module instead, or its
    # UserError would be a second class that main() does not catch.
    from qrsr_helpers.cli import main as package_main

    sys.exit(package_main())
