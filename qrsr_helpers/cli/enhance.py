"""``qrsr enhance``: which files the arguments name, where each output goes, and the per-file loop. Every input is
accounted for by name; one file's failure never stops the batch."""

from __future__ import annotations

import glob
import sys
from pathlib import Path

from ..errors import InvalidArgument, QrsrError, error_line, printable
from ..io import IMAGE_SUFFIXES
from . import checked_weights, named_by

OUTPUT_TAG = ".x4"  # photo.jpg -> photo.x4.png


def expand_inputs(inputs: list[str]) -> tuple[list[Path], list[str], list[str]]:
    """``(files, errors, notes)`` from the command line's files, folders (not recursive) and globs: an input naming
    nothing is an error; what folders and globs hold besides images is listed in ``notes``; no file twice."""
    files, errors, notes = [], [], []
    for item in inputs:
        path = Path(item)
        if not item.strip():
            errors.append("an empty input name (an unset shell variable?): name a file, folder or pattern")
        elif path.is_file() and path.suffix.lower() not in IMAGE_SUFFIXES:
            errors.append(f"{item}: not a supported image type ({', '.join(IMAGE_SUFFIXES)})")
        elif path.is_file():
            files.append(path)
        elif path.is_dir() or glob.has_magic(item):
            folder, where = path.is_dir(), str(path) if path.is_dir() else item
            found = sorted(p for p in path.iterdir() if not p.name.startswith(".")) if folder else \
                [Path(m) for m in sorted(glob.glob(item))]
            outputs = [p.name for p in found if p.name.endswith(OUTPUT_TAG + ".png")]
            images = [p for p in found if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and p.name not in outputs]
            others = [p.name for p in found if p not in images and p.name not in outputs]
            if outputs:
                notes.append(f"{where}: skipped {len(outputs)} earlier output(s) (*{OUTPUT_TAG}.png)")
            if others:
                notes.append(f"{where}: skipped {len(others)} non-image entr{'y' if len(others) == 1 else 'ies'}: "
                             f"{', '.join(others[:5])}{' ...' if len(others) > 5 else ''}")
            files += images
            if not images:
                errors.append(f"{where}: folder holds no images ({', '.join(IMAGE_SUFFIXES)})" if folder else
                              f"{where}: no file matches this pattern")
        else:
            errors.append(f"{item}: {'not a regular file' if path.exists() else 'no such file or folder'}")
    unique = {}
    for path in files:
        unique.setdefault(path.resolve(), path)
    return list(unique.values()), errors, notes


def output_paths(files: list[Path], out: str | None) -> tuple[dict[Path, Path], list[str]]:
    """``NAME.x4.png`` beside each input, or in the folder ``out``, or ``out`` itself (an image file, one input).
    An output that would overwrite an input or another output is an error for that input."""
    target = Path(out) if out else None
    to_file = target is not None and not target.is_dir() and target.suffix != ""
    if to_file and target.suffix.lower() not in IMAGE_SUFFIXES:
        raise InvalidArgument(f"{target}: -o names neither an image file ({', '.join(IMAGE_SUFFIXES)}) nor a folder")
    if to_file and len(files) > 1:
        raise InvalidArgument(f"{target}: -o names one file but there are {len(files)} inputs; give a folder")
    if target is not None and target.exists() and not target.is_dir() and not to_file:
        raise InvalidArgument(f"{target}: -o names an existing file that is not an image; give a folder")
    inputs = {path.resolve(): path for path in files}
    outputs, errors, taken = {}, [], {}
    for path in files:
        destination = target if to_file else (target or path.parent) / f"{path.stem}{OUTPUT_TAG}.png"
        key = destination.resolve()
        if key in inputs:
            errors.append(f"{path}: its output {destination} would overwrite the input {inputs[key]}; use -o")
        elif key in taken:
            fix = "enhance them into separate -o folders" if target is not None else "use -o"
            errors.append(f"{path}: would write {destination} as {taken[key]} does; {fix}")
        else:
            outputs[path], taken[key] = destination, path
    return outputs, errors


def run(args) -> int:
    from tqdm import tqdm

    from ..inference import Enhancer
    from ..io import MAX_PIXELS
    from ..ladder import LADDER

    enhancer = Enhancer(args.weights, args.backend, args.precision, args.tile, args.ensemble,
                        () if args.fast else LADDER)  # a bad --tile fails first; the generator loads below
    files, errors, notes = expand_inputs(args.inputs)
    outputs, clashes = output_paths(files, args.out) if files else ({}, [])
    errors += clashes
    for line in [f"error: {message}" for message in errors] + notes:
        print(f"qrsr enhance: {printable(line)}", file=sys.stderr)
    checked_weights("--weights", args.weights)  # a bad name fails once, up front, even when no input is usable
    if outputs:
        with named_by("--weights", args.weights):
            enhancer.generator  # noqa: B018 - loaded once, before any file: one line if it fails
    done = []
    for path in tqdm(outputs, unit="image", disable=len(outputs) < 2, file=sys.stderr):
        try:
            result = enhancer.enhance_file(path, outputs[path], decode=args.decode, whole=args.whole,
                                           max_pixels=args.max_pixels or MAX_PIXELS)
        except QrsrError as error:
            message = str(error)
        except MemoryError:
            message = f"{path}: out of memory (try a smaller --tile, or without --whole/--decode)"
        except Exception as error:  # noqa: BLE001 - one file's failure never stops the batch
            message = f"{path}: failed ({type(error).__name__}: {error_line(error, 200)})"
        else:
            done.append(result)
            tqdm.write(result.describe())
            continue
        errors.append(message)
        tqdm.write(f"qrsr enhance: error: {printable(message)}", file=sys.stderr)
    read = [r for r in done if r.payloads]
    if len(args.inputs) > 1 or len(files) > 1:
        summary = f"qrsr enhance: {len(done)} enhanced, {len(errors)} bad input(s)"
        if args.decode:
            by_sr = sum(1 for r in read if not any(result.ok for result in r.decoded["original"].values()))
            summary += f"; payload read from {len(read)}/{len(done)} ({by_sr} only after enhancing)"
        print(summary, file=sys.stderr)
    return 2 if errors else 1 if args.decode and not read else 0
