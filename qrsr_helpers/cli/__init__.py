"""The ``qrsr`` command: one module per subcommand, each a thin shell around the package (imports are lazy:
``qrsr --help`` loads no TensorFlow). Exit status: 0 done; 1 nothing decoded (``enhance --decode``); 2 a bad
argument, input or output place (one line on stderr, never a traceback); 130 interrupted.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import warnings
from contextlib import contextmanager
from functools import partial
from importlib import import_module

from ..config import BACKEND_ENV, BACKENDS, PRECISION_ENV, PRECISIONS, PROFILES, Config
from ..errors import BadFile, InvalidArgument, QrsrError, QrsrWarning, printable

EXIT_BAD_INPUT, EXIT_INTERRUPTED = 2, 130
MAX_CODES = 100_000  # ~5 GB of pairs and hours of decoding: beyond it a typo is likelier than a plan


class _Parser(argparse.ArgumentParser):
    """A bad command line in one line (exit 2), not argparse's usage block."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _check_numbers(args: argparse.Namespace) -> None:
    codes_limit = 10_000 if args.command == "demo" else MAX_CODES
    checks = [("n", lambda v: v >= 1, "need at least one code"),
              ("n", lambda v: v <= codes_limit, f"more than {codes_limit:,} codes: hours of work and gigabytes; "
                                                "split the job"),
              ("seed", lambda v: v >= 0, "seeds are whole numbers >= 0"),
              ("epochs", lambda v: v >= 1, "need at least one epoch"),
              ("minutes", lambda v: math.isfinite(v) and v > 0, "need a positive number of minutes"),
              ("max_pixels", lambda v: v >= 1, "need a positive number of pixels")]
    for name, ok, why in checks:
        value = getattr(args, name, None)
        if value is not None and not ok(value):
            raise InvalidArgument(f"--{name.replace('_', '-')} {value}: {why}")


@contextmanager
def named_by(flag: str, spec: str | None):
    """A missing weights file reported with the flag that named it (``--weights x.weights.h5: no such file``)."""
    try:
        yield
    except BadFile as error:
        if error.reason != "missing":
            raise
        raise InvalidArgument(f"{flag} {spec}: {str(error).rpartition(': ')[2]}") from None


def checked_weights(flag: str, spec: str | None):
    from ..models.registry import weights_path

    with named_by(flag, spec):
        return weights_path(spec)


WEIGHTS_HELP = "srresnet | srgan | pretrained (= srresnet) | a .weights.h5 file, e.g. one qrsr train wrote"
RUNTIME_FLAGS = {"backend": (BACKEND_ENV, BACKENDS), "precision": (PRECISION_ENV, PRECISIONS)}


def _check_runtime_settings(args: argparse.Namespace) -> None:
    """``--backend``/``--precision``, else their environment variables (read here, once), else ``auto``: checked
    before any work and passed down as arguments."""
    for flag, (variable, choices) in RUNTIME_FLAGS.items():
        if not hasattr(args, flag):
            continue
        value = getattr(args, flag) or os.environ.get(variable) or "auto"
        if value.lower() not in choices:
            raise InvalidArgument(f"${variable}={value!r}: not one of {', '.join(choices)} (or pass --{flag})")
        setattr(args, flag, value.lower())


def load_for(args: argparse.Namespace, spec: str | None, flag: str = "--weights"):
    """The generator ``spec`` names, loaded (once: cached) as ``--backend``/``--precision`` say."""
    from ..models.registry import load_pretrained

    with named_by(flag, spec):
        return load_pretrained(spec, args.backend, args.precision)


def _note(command: str, shown: set, message, category, filename, lineno, file=None, line=None) -> None:
    """Our warnings as one ``qrsr CMD: note:`` line each, once; others as Python shows them."""
    if issubclass(category, QrsrWarning):
        if str(message) not in shown:
            shown.add(str(message))
            print(f"qrsr {command}: note: {printable(str(message))}", file=sys.stderr)
    else:
        _SHOW_WARNING(message, category, filename, lineno, file, line)


_SHOW_WARNING = warnings.showwarning


def _runtime_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=BACKENDS,
                        help="auto (default): the bundled generators' ONNX export on OpenVINO, no TensorFlow; "
                             "keras: the Keras model (always used for your own .weights.h5)")
    parser.add_argument("--precision", choices=PRECISIONS,
                        help="of the ONNX path; auto (default): bf16 where the CPU computes it (AMX, AVX512-BF16)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="qrsr", description="QR code super-resolution with SRGAN.")
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="generate HR/LR pairs into data/generated")
    data.add_argument("--profile", choices=PROFILES)
    data.add_argument("--n", type=int, help="number of codes (default: the profile's)")
    data.add_argument("--purpose", choices=("train", "eval"), default="train")

    evaluate = sub.add_parser("evaluate", help="decode rate / PSNR / SSIM of an upscaler vs bicubic")
    evaluate.add_argument("--upscaler", action="append",
                          help="nearest | bilinear | bicubic | lanczos | " + WEIGHTS_HELP + " (repeatable)")
    evaluate.add_argument("--n", type=int, default=1000)
    evaluate.add_argument("--degradation", choices=("clean", "realistic"), default="realistic")
    evaluate.add_argument("--seed", type=int, default=Config.eval_seed)
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of tables")
    _runtime_flags(evaluate)

    train = sub.add_parser("train", help="SRResNet pre-training and/or SRGAN fine-tuning")
    train.add_argument("--profile", choices=PROFILES)
    train.add_argument("--stage", choices=("pretrain", "gan", "both"), default="both")
    train.add_argument("--out", help="run folder (default: runs/<profile>)")
    train.add_argument("--init", help="generator weights to start from: " + WEIGHTS_HELP)
    train.add_argument("--epochs", type=int, help="override the profile's epochs for the chosen stage(s)")
    train.add_argument("--minutes", type=float, help="wall-clock budget per stage (cosine LR decay, then stop)")

    enhance = sub.add_parser(
        "enhance", help="super-resolve QR code image(s) and optionally decode them",
        description="Find the QR code in each image (PNG, JPEG, WebP, BMP, TIFF; gray/RGB/RGBA; 8/16-bit), "
                    "enhance a padded region around it x4 (the whole image, tiled, when no code is found) and "
                    "write NAME.x4.png (8-bit) beside the input. Exit status: 0 done (with --decode: a payload "
                    "was read), 1 --decode read nothing, 2 an input was missing or unreadable.")
    enhance.add_argument("inputs", nargs="+", help="image files, folders or globs")
    enhance.add_argument("-o", "--out", help="output image file (one input) or folder")
    enhance.add_argument("--decode", action="store_true", help="decode before and after; exit 1 if nothing was read")
    enhance.add_argument("--weights", help=WEIGHTS_HELP + " (default: srresnet)")
    enhance.add_argument("--whole", action="store_true", help="enhance the whole image, not just the code")
    enhance.add_argument("--ensemble", action="store_true",
                         help="average over the 8 rotations/reflections: 8x the time, more small codes read")
    enhance.add_argument("--fast", action="store_true",
                         help="with --decode: read once; by default, when nothing reads, a ladder of extra attempts "
                              "(rescaled, then the ensemble) follows")
    enhance.add_argument("--tile", type=int,
                         help="input tile size in px for large regions: smaller needs less memory (default 128)")
    _runtime_flags(enhance)
    enhance.add_argument("--max-pixels", type=int, default=None,
                         help="refuse larger inputs (default 50,000,000: a 50 MP photo)")

    demo = sub.add_parser("demo", help="the bundled generator vs bicubic on fresh codes, with a figure")
    demo.add_argument("--n", type=int, default=100,
                      help="codes to compare (default 100: under a minute on 2 cores)")
    demo.add_argument("--out", default="qrsr_demo.png")
    demo.add_argument("--seed", type=int, default=Config.eval_seed)
    demo.add_argument("--weights", help=WEIGHTS_HELP + " (default: srresnet)")
    _runtime_flags(demo)
    return parser


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # SIGTERM unwinds like Ctrl-C: temporary files are removed on the way out


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    warnings.showwarning = partial(_note, args.command, set())
    try:
        _check_numbers(args)
        _check_runtime_settings(args)
        return int(import_module(f".{args.command}", __name__).run(args) or 0)
    except (QrsrError, FileNotFoundError) as error:
        print(f"qrsr {args.command}: error: {printable(str(error))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"qrsr {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
