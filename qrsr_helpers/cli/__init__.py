"""The ``qrsr`` command, one module per subcommand (imported lazily: ``qrsr --help`` loads no TensorFlow). Exit status:
0 done; 1 nothing decoded (``enhance --decode``); 2 a bad argument or input (one line, no traceback); 130 Ctrl-C."""

from __future__ import annotations

import argparse
import math
import signal
import sys
import warnings
from contextlib import contextmanager
from functools import partial
from importlib import import_module

from ..config import BACKENDS, PRECISIONS, PROFILES, Config
from ..errors import BadFile, InvalidArgument, QrsrError, QrsrWarning, printable


class _Parser(argparse.ArgumentParser):
    """A bad command line in one line (exit 2), not argparse's usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _check_numbers(args: argparse.Namespace) -> None:
    codes_limit = 10_000 if args.command == "demo" else 100_000  # ~5 GB of pairs, hours of decoding: likelier a typo
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
    """A missing weights file named by its flag (``--weights x.weights.h5: no such file``)."""
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


def _note(command: str, shown: set, message, category, filename, lineno, file=None, line=None) -> None:
    """Our warnings as one ``qrsr CMD: note:`` line each, once; others as Python shows them."""
    if not issubclass(category, QrsrWarning):
        _SHOW_WARNING(message, category, filename, lineno, file, line)
    elif str(message) not in shown:
        shown.add(str(message))
        print(f"qrsr {command}: note: {printable(str(message))}", file=sys.stderr)


_SHOW_WARNING = warnings.showwarning


def _runtime_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=BACKENDS, help="auto (default): ONNX/OpenVINO if bundled, else keras")
    parser.add_argument("--precision", choices=PRECISIONS, help="of ONNX; auto (default): bf16 where the CPU has it")


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

    enhance = sub.add_parser("enhance", help="super-resolve QR code image(s) and optionally decode them",
                             description="Enhance x4 the region around each image's QR code (the whole image when "
                                         "none is found) into NAME.x4.png. Exit status: 0 done, 1 --decode read "
                                         "nothing, 2 a bad input.")
    enhance.add_argument("inputs", nargs="+", help="image files, folders or globs")
    enhance.add_argument("-o", "--out", help="output image file (one input) or folder")
    enhance.add_argument("--decode", action="store_true", help="decode before and after; exit 1 if nothing was read")
    enhance.add_argument("--weights", help=WEIGHTS_HELP + " (default: srresnet)")
    enhance.add_argument("--whole", action="store_true", help="enhance the whole image, not just the code")
    enhance.add_argument("--ensemble", action="store_true", help="average 8 rotations/reflections: 8x the time")
    enhance.add_argument("--fast", action="store_true",
                         help="with --decode: read once, no ladder of extra attempts when nothing reads")
    enhance.add_argument("--tile", type=int, help="tile size in px: smaller needs less memory (default 128)")
    _runtime_flags(enhance)
    enhance.add_argument("--max-pixels", type=int, help="refuse larger inputs (default 50,000,000)")

    demo = sub.add_parser("demo", help="the bundled generator vs bicubic on fresh codes, with a figure")
    demo.add_argument("--n", type=int, default=100, help="codes to compare (default 100: a minute on 2 cores)")
    demo.add_argument("--out", default="qrsr_demo.png")
    demo.add_argument("--seed", type=int, default=Config.eval_seed)
    demo.add_argument("--weights", help=WEIGHTS_HELP + " (default: srresnet)")
    _runtime_flags(demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # unwinds like Ctrl-C: temporary files are removed
    warnings.showwarning = partial(_note, args.command, set())
    try:
        _check_numbers(args)
        from ..models.exported import setting

        if hasattr(args, "backend"):  # flags, else environment variables (read here, once), else auto
            args.backend, args.precision = setting("backend", args.backend), setting("precision", args.precision)
        return int(import_module(f".{args.command}", __name__).run(args) or 0)
    except (QrsrError, FileNotFoundError) as error:
        print(f"qrsr {args.command}: error: {printable(str(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"qrsr {args.command}: interrupted", file=sys.stderr)
        return 130
