"""The bundled generator, ``enhance(image)`` and ``qrsr enhance``: the one path every user-facing feature goes through.

``load_pretrained()`` returns the generator this repository trained with its own code (see
``weights/MODEL_CARD.md``); ``enhance(image)`` takes a uint8 image (H x W grey, H x W x 3 RGB or
H x W x 4 RGBA, any size) and returns the x4 uint8 image of the same kind. Large inputs are
processed in overlapping tiles and the result is filled strip by strip, so memory stays bounded
whatever the photo's size.

For files (``qrsr enhance``, notebook 08): ``read_image`` / ``write_image`` (atomic), and
``enhance_file``, which first finds the code (``locate``) and enhances only a padded region around
it: the generator runs ~10 codes of 32 x 32 px a second on a laptop CPU, so a whole 640 x 480
photo costs minutes and the code inside it a fraction of a second.
"""

from __future__ import annotations

import glob
import json
import os
import struct
import sys
import time
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np

WEIGHTS_DIR = Path(__file__).parent / "weights"
BUNDLED = {"srresnet": "srresnet_16x64", "srgan": "srgan_16x64"}
DEFAULT_MODEL = "srresnet"
SCALE = 4  # the bundled generators' factor (two x2 upsampling blocks)
TILE, OVERLAP = 128, 16  # LR pixels: a 128 x 128 tile costs ~0.3 GB of activations as a graph, ~0.8 GB eagerly
EAGER_TILES = 4  # up to this many tiles (a code's region) run eagerly; more (a whole photo) run as a graph
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
OUTPUT_TAG = ".x4"  # photo.jpg -> photo.x4.png


def bundled_path(model: str = DEFAULT_MODEL) -> Path:
    """The weights file of a bundled model (``srresnet`` | ``srgan``)."""
    if model not in BUNDLED:
        raise ValueError(f"bundled model {model!r} is not one of {list(BUNDLED)}")
    return WEIGHTS_DIR / f"{BUNDLED[model]}.weights.h5"


def weights_architecture(weights: Path) -> dict:
    """The architecture recorded beside a weights file (``NAME.run.json``); the bundled default otherwise."""
    info = weights.with_name(weights.name.replace(".weights.h5", ".run.json"))
    if info.is_file():
        return json.loads(info.read_text())["architecture"]
    return dict(n_res_blocks=16, filters=64, upsampling="pixel_shuffle", channels=3)


@lru_cache(maxsize=4)
def _load(path: str):
    from .models import build_generator

    weights = Path(path)
    if not weights.is_file():
        raise FileNotFoundError(f"generator weights not found: {weights}")
    arch = weights_architecture(weights)
    generator = build_generator(n_res_blocks=arch["n_res_blocks"], n_upscale=2, upsampling=arch["upsampling"],
                                channels=arch["channels"], filters=arch["filters"], name=weights.name.split(".")[0])
    generator.load_weights(weights)
    return generator


def load_pretrained(weights: str | Path = DEFAULT_MODEL):
    """The bundled generator (``"srresnet"``, ``"srgan"``) or one from a ``.weights.h5`` file, ready to
    use (cached: loading twice costs nothing). Input and output pixels are in [0, 1]."""
    path = bundled_path(weights) if str(weights) in BUNDLED else Path(weights)
    return _load(str(path.resolve()))


def _as_rgb(image: np.ndarray) -> tuple[np.ndarray, str]:
    """uint8 RGB view of any supported image, and its kind (gray | rgb | rgba)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"enhance() wants a uint8 image, got {image.dtype}; read files with read_image()")
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        gray = image.reshape(image.shape[:2])
        return np.repeat(gray[..., None], 3, axis=2), "gray"
    if image.ndim == 3 and image.shape[2] in (3, 4):
        return np.ascontiguousarray(image[..., :3]), "rgb" if image.shape[2] == 3 else "rgba"
    raise ValueError(f"enhance() wants H x W, H x W x 3 or H x W x 4, got shape {image.shape}")


def _tiles(length: int, tile: int, overlap: int) -> tuple[int, list[int]]:
    """Tile size and starts covering ``length`` with equal tiles of at most ``tile`` that overlap by at
    least ``overlap``. Equal sizes (150 px -> 2 x 83, not 128 + 128) waste the least compute."""
    if length <= tile:
        return length, [0]
    count = -(-(length - overlap) // (tile - overlap))
    size = -(-(length + (count - 1) * overlap) // count)
    return size, [min(i * (size - overlap), length - size) for i in range(count)]


def _sr_strips(generator, rgb: np.ndarray, tile: int, overlap: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(first HR row, finished uint8 RGB rows)`` top to bottom.

    Tiles are blended with a feathered window (seams do not show) into a float buffer one tile-row
    high; rows no later tile can touch are rounded and handed out. Memory: one tile's activations
    plus two strips of the output width, whatever the image height.

    A few tiles (a code's region) run eagerly: no graph to trace for an odd shape, ~3 s saved on a CPU.
    Many (a whole photo, all tiles one shape) run through ``predict``: traced once, and a graph frees
    each activation after its last use, where eager Keras keeps them all until the call ends."""
    from tqdm import tqdm

    from .inference import resolve

    h, w = rgb.shape[:2]
    th, ys = _tiles(h, tile, overlap)
    tw, xs = _tiles(w, tile, overlap)
    s = SCALE
    eager = len(ys) * len(xs) <= EAGER_TILES
    if len(ys) == len(xs) == 1:
        yield 0, _check_scale(resolve(generator, rgb[None], eager=True)[0], h, w)
        return
    ramp = lambda n: np.minimum(np.minimum(np.arange(n) + 1, np.arange(n)[::-1] + 1), overlap * s).astype(np.float32)
    window = (ramp(th * s)[:, None] * ramp(tw * s)[None, :])[..., None]
    acc = np.zeros((th * s, w * s, 3), np.float32)
    weight = np.zeros((th * s, w * s, 1), np.float32)
    top = 0  # the HR row acc[0] stands for
    with tqdm(total=len(ys) * len(xs), unit="tile", leave=False, disable=len(ys) * len(xs) < 16) as bar:
        for y in ys:
            shift = y * s - top
            if shift:
                yield top, _blend(acc[:shift], weight[:shift])
                acc[:-shift], weight[:-shift] = acc[shift:].copy(), weight[shift:].copy()
                acc[-shift:], weight[-shift:] = 0.0, 0.0
                top = y * s
            for x in xs:
                patch = _check_scale(resolve(generator, rgb[None, y:y + th, x:x + tw], eager=eager)[0], th, tw)
                acc[:, x * s:(x + tw) * s] += patch * window
                weight[:, x * s:(x + tw) * s] += window
                bar.update()
    yield top, _blend(acc, weight)


def _blend(acc: np.ndarray, weight: np.ndarray) -> np.ndarray:
    return np.round(acc / weight).clip(0, 255).astype(np.uint8)


def _check_scale(sr: np.ndarray, h: int, w: int) -> np.ndarray:
    if sr.shape[:2] != (h * SCALE, w * SCALE):
        raise ValueError(f"the generator turned {h}x{w} into {sr.shape[0]}x{sr.shape[1]}; enhance() needs x{SCALE}")
    return sr


def super_resolve(generator, rgb: np.ndarray, tile: int = TILE, overlap: int = OVERLAP) -> np.ndarray:
    """x4 of a uint8 RGB image in overlapping tiles (see ``_sr_strips``): peak memory depends on
    ``tile`` and the image width, not on its size."""
    h, w = rgb.shape[:2]
    out = np.empty((h * SCALE, w * SCALE, 3), np.uint8)
    for top, rows in _sr_strips(generator, rgb, tile, overlap):
        out[top:top + len(rows)] = rows
    return out


def enhanced_strips(image: np.ndarray, generator=None, tile: int = TILE) -> tuple[tuple[int, ...], Iterator]:
    """The x4 image's shape and an iterator of ``(first row, rows)`` of it, top to bottom, in the
    input's kind (gray/RGB/RGBA; alpha is upscaled bicubically): for writers that never hold the
    whole result (``write_png_strips``)."""
    import cv2

    rgb, kind = _as_rgb(image)
    if tile < 2 * OVERLAP:
        raise ValueError(f"tile={tile}: must be at least {2 * OVERLAP} (tiles overlap by {OVERLAP} px)")
    generator = generator or load_pretrained()
    h, w = rgb.shape[:2]
    shape = (h * SCALE, w * SCALE) + {"gray": (), "rgb": (3,), "rgba": (4,)}[kind]
    alpha = (cv2.resize(np.asarray(image)[..., 3], (w * SCALE, h * SCALE), interpolation=cv2.INTER_CUBIC)
             if kind == "rgba" else None)

    def strips() -> Iterator[tuple[int, np.ndarray]]:
        for top, rows in _sr_strips(generator, rgb, tile, OVERLAP):
            if kind == "gray":
                rows = cv2.cvtColor(rows, cv2.COLOR_RGB2GRAY)
            elif kind == "rgba":
                rows = np.dstack([rows, alpha[top:top + len(rows)]])
            yield top, rows

    return shape, strips()


def enhance(image: np.ndarray, generator=None, tile: int = TILE) -> np.ndarray:
    """x4 super-resolution of a uint8 image of any size, returned as the same kind (gray/RGB/RGBA;
    alpha is upscaled bicubically). ``generator`` defaults to the bundled one. The output is filled
    strip by strip: a 4000 x 3000 photo needs its 16000 x 12000 result and little more."""
    shape, strips = enhanced_strips(image, generator, tile)
    out = np.empty(shape, np.uint8)
    for top, rows in strips:
        out[top:top + len(rows)] = rows
    return out


# --- image files ------------------------------------------------------------------------------------


class ImageError(ValueError):
    """A file that cannot be read or written as an image; the message starts with the file's name."""


def read_image(path: str | Path) -> np.ndarray:
    """A PNG / JPEG / WebP / BMP / TIFF file as uint8 gray (H x W), RGB or RGBA (H x W x 3|4).

    16-bit images are rounded to 8 bits (the generator sees 8-bit pixels); JPEG photos are turned
    upright by their EXIF orientation, as every viewer shows them."""
    import cv2

    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: {'is a folder, not an image' if path.is_dir() else 'no such file'}")
    try:
        data = np.fromfile(path, np.uint8)
    except OSError as error:
        raise ImageError(f"{path}: cannot read ({error.strerror or error})") from None
    if data.size == 0:
        raise ImageError(f"{path}: empty file")
    # JPEG has no alpha: decode it with the flags that apply EXIF orientation; others keep alpha.
    flags = cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR if data[:2].tobytes() == b"\xff\xd8" else cv2.IMREAD_UNCHANGED
    quiet = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # our message below replaces its warning
    try:
        image = cv2.imdecode(data, flags)
    except cv2.error:
        image = None
    finally:
        cv2.utils.logging.setLogLevel(quiet)
    if image is None:
        raise ImageError(f"{path}: not a readable image (PNG, JPEG, WebP, BMP, TIFF): corrupt, truncated or "
                         "another format")
    if image.dtype == np.uint16:
        image = ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ImageError(f"{path}: {image.dtype} pixels are not supported (8- or 16-bit images only)")
    if image.ndim == 3 and image.shape[2] == 1:
        return image[..., 0]
    if image.ndim == 3:
        code = {3: cv2.COLOR_BGR2RGB, 4: cv2.COLOR_BGRA2RGBA}.get(image.shape[2])
        if code is None:
            raise ImageError(f"{path}: {image.shape[2]} channels are not supported (gray, RGB or RGBA)")
        image = cv2.cvtColor(image, code)
    return image


def write_image(path: str | Path, image: np.ndarray) -> Path:
    """Write a uint8 gray/RGB/RGBA image atomically (a temporary file in the same folder, then a
    rename): an interrupted run never leaves a half-written file under ``path``. The format follows
    the suffix. Colour images are channel-swapped in place for OpenCV and swapped back afterwards,
    so a 16000 x 12000 result is never copied."""
    import cv2

    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ImageError(f"{path}: unknown image format {path.suffix!r}; use one of {', '.join(IMAGE_SUFFIXES)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    swap = {3: cv2.COLOR_RGB2BGR, 4: cv2.COLOR_RGBA2BGRA}.get(image.shape[2]) if image.ndim == 3 else None
    if swap is not None and not image.flags.writeable:
        image, swap = cv2.cvtColor(image, swap), None
    elif swap is not None:
        cv2.cvtColor(image, swap, dst=image)
    try:
        written = cv2.imwrite(str(tmp), image)
    except cv2.error as error:
        written, reason = False, str(error).strip().splitlines()[-1]
    else:
        reason = "the encoder refused it"
    finally:
        if swap is not None:
            cv2.cvtColor(image, swap, dst=image)  # the same swap undoes itself
    if not written:
        tmp.unlink(missing_ok=True)
        raise ImageError(f"{path}: could not write the {image.shape[1]}x{image.shape[0]} image ({reason})")
    os.replace(tmp, path)
    return path


def write_png_strips(path: str | Path, shape: tuple[int, ...], strips: Iterator[tuple[int, np.ndarray]],
                     level: int = 1) -> Path:
    """Write a PNG from row blocks as they come (``enhanced_strips``), atomically: the image never
    exists whole in memory, so a 16000 x 12000 result costs two strips, not 576 MB. Rows use the PNG
    "Sub" filter (difference to the left neighbour), zlib level 1: OpenCV's own speed setting."""
    path = Path(path)
    height, width = shape[:2]
    channels = shape[2] if len(shape) == 3 else 1
    colour_type = {1: 0, 3: 2, 4: 6}[channels]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    try:
        with open(tmp, "wb") as file:
            header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
            file.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header))
            stream, written = zlib.compressobj(level), 0
            for top, rows in strips:
                if top != written:
                    raise ValueError(f"rows {top}.. arrived after rows ..{written}: strips must come in order")
                flat = rows.reshape(len(rows), width * channels)
                filtered = np.empty((len(rows), 1 + width * channels), np.uint8)
                filtered[:, 0] = 1  # filter type Sub
                filtered[:, 1:1 + channels] = flat[:, :channels]
                np.subtract(flat[:, channels:], flat[:, :-channels], out=filtered[:, 1 + channels:])  # wraps mod 256
                file.write(chunk(b"IDAT", stream.compress(filtered.tobytes())))
                written += len(rows)
            if written != height:
                raise ValueError(f"{written} of {height} rows arrived")
            file.write(chunk(b"IDAT", stream.flush()) + chunk(b"IEND", b""))
        os.replace(tmp, path)
    except OSError as error:
        raise ImageError(f"{path}: could not write ({error.strerror or error})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


# --- enhancing files: what `qrsr enhance` and notebook 08 do ----------------------------------------


@dataclass
class Enhanced:
    """One enhanced file: where the code was looked for and found, and what each path decoded."""

    source: Path
    output: Path
    box: tuple[int, int, int, int]  # the enhanced LR region (x0, y0, x1, y1)
    found_by: str  # zxing | contrast | none (whole image) | whole (asked for)
    seconds: float
    decoded: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # path -> decoder -> texts

    @property
    def payloads(self) -> list[str]:
        """Every distinct payload read by any decoder on any path, in order of discovery."""
        return list(dict.fromkeys(t for by_decoder in self.decoded.values() for texts in by_decoder.values()
                                  for t in texts))

    def describe(self) -> str:
        x0, y0, x1, y1 = self.box
        where = {"zxing": "code found by zxing", "contrast": "code-like region (contrast)",
                 "none": "no code found: whole image", "whole": "whole image"}[self.found_by]
        lines = [f"{self.source} -> {self.output}  [{where}: {x1 - x0}x{y1 - y0} px at x={x0} y={y0}, "
                 f"{self.seconds:.2f} s]"]
        for path, by_decoder in self.decoded.items():
            texts = list(dict.fromkeys(t for ts in by_decoder.values() for t in ts))
            readers = ", ".join(d for d, ts in by_decoder.items() if ts)
            shown = "; ".join(json.dumps(t, ensure_ascii=False) for t in texts)
            lines.append(f"  {path:<9} {shown} ({readers})" if texts else f"  {path:<9} nothing read")
        return "\n".join(lines)


def _decode_all(image: np.ndarray) -> dict[str, tuple[str, ...]]:
    from .decode import DECODERS, decode

    return {decoder: decode(image, decoder).texts for decoder in DECODERS}


def enhance_file(source: str | Path, output: str | Path, weights: str | Path = DEFAULT_MODEL, decode: bool = False,
                 whole: bool = False, tile: int = TILE) -> Enhanced:
    """Read ``source``, find the code (``locate``), enhance a padded region around it (the whole image
    when none is found or ``whole``), write ``output`` atomically; with ``decode``, decode the
    original and the enhanced image with every decoder. The file is read before the generator is
    loaded, so a bad input fails fast; ``seconds`` leaves the (once per process) model load out.
    A PNG output that is not decoded is streamed to disk strip by strip (bounded memory)."""
    from .locate import locate

    start = time.perf_counter()
    image = read_image(source)
    read_seconds = time.perf_counter() - start
    generator = load_pretrained(weights)
    start = time.perf_counter() - read_seconds
    h, w = image.shape[:2]
    region = None if whole else locate(image)
    box = region.box if region else (0, 0, w, h)
    found_by = region.source if region else ("whole" if whole else "none")
    crop = image[box[1]:box[3], box[0]:box[2]]
    decoded = {}
    if decode or Path(output).suffix.lower() != ".png":
        sr = enhance(crop, generator, tile)
        if decode:
            decoded = {"original": _decode_all(image), "enhanced": _decode_all(sr)}
        write_image(output, sr)
    else:
        write_png_strips(output, *enhanced_strips(crop, generator, tile))
    return Enhanced(Path(source), Path(output), box, found_by, time.perf_counter() - start, decoded)


def _is_output(path: Path) -> bool:
    return path.name.endswith(OUTPUT_TAG + ".png")


def expand_inputs(inputs: list[str]) -> tuple[list[Path], list[str], list[str]]:
    """Files from the command line's files, folders (their images, not recursive) and globs.

    Returns ``(files, errors, notes)``: an input that names nothing is an error (reported, never
    dropped); files a folder holds that are not images, or are earlier outputs (``*.x4.png``), are
    skipped and listed in ``notes``."""
    files, errors, notes = [], [], []
    for item in inputs:
        path = Path(item)
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            entries = sorted(p for p in path.iterdir() if not p.name.startswith("."))
            images = [p for p in entries if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not _is_output(p)]
            outputs = [p.name for p in entries if _is_output(p)]
            others = [p.name for p in entries if p not in images and p.name not in outputs]
            files += images
            if outputs:
                notes.append(f"{path}: skipped {len(outputs)} earlier output(s) (*{OUTPUT_TAG}.png)")
            if others:
                notes.append(f"{path}: skipped {len(others)} non-image entr{'y' if len(others) == 1 else 'ies'}: "
                             f"{', '.join(others[:5])}{' ...' if len(others) > 5 else ''}")
            if not images:
                errors.append(f"{path}: folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
        elif glob.has_magic(item):
            matches = sorted(glob.glob(item))
            if not matches:
                errors.append(f"{item}: no file matches this pattern")
            more, more_errors, more_notes = expand_inputs(matches) if matches else ([], [], [])
            files, errors, notes = files + more, errors + more_errors, notes + more_notes
        else:
            errors.append(f"{item}: no such file or folder")
    return list(dict.fromkeys(files)), errors, notes


def output_paths(files: list[Path], out: str | None) -> tuple[dict[Path, Path], list[str]]:
    """``NAME.x4.png`` beside each input, or in the folder ``out``, or ``out`` itself when it names an
    image file and there is one input. Two inputs that would write the same file are an error."""
    target = Path(out) if out else None
    to_file = target is not None and target.suffix.lower() in IMAGE_SUFFIXES and not target.is_dir()
    if to_file and len(files) > 1:
        raise ImageError(f"{target}: -o names one file but there are {len(files)} inputs; give a folder")
    outputs, errors, taken = {}, [], {}
    for path in files:
        destination = target if to_file else (target or path.parent) / f"{path.stem}{OUTPUT_TAG}.png"
        key = destination.resolve()
        if key == path.resolve():
            errors.append(f"{path}: the output would overwrite the input; use -o")
        elif key in taken:
            errors.append(f"{path}: would write {destination} as {taken[key]} does; use -o")
        else:
            outputs[path], taken[key] = destination, path
    return outputs, errors


def cli_enhance(args) -> int:
    """``qrsr enhance``: exit 0 when done (with ``--decode``: when a payload was read), 1 when
    ``--decode`` read nothing, 2 when an input was missing or unreadable (the others still run)."""
    from tqdm import tqdm

    from .cli import UserError

    if args.tile < 2 * OVERLAP:
        raise UserError(f"--tile {args.tile}: must be at least {2 * OVERLAP} (tiles overlap by {OVERLAP} px)")

    files, errors, notes = expand_inputs(args.inputs)
    try:
        outputs, clashes = output_paths(files, args.out) if files else ({}, [])
    except ImageError as error:
        raise UserError(str(error)) from None
    errors += clashes
    for message in errors:
        print(f"qrsr enhance: error: {message}", file=sys.stderr)
    for message in notes:
        print(f"qrsr enhance: {message}", file=sys.stderr)
    done: list[Enhanced] = []
    weights = args.weights or DEFAULT_MODEL
    if weights not in BUNDLED and not Path(weights).is_file():
        raise FileNotFoundError(f"--weights {weights}: no such file")
    if outputs:
        for path in tqdm(outputs, unit="image", disable=len(outputs) < 2, file=sys.stderr):
            try:
                result = enhance_file(path, outputs[path], weights, decode=args.decode, whole=args.whole,
                                      tile=args.tile)
            except ImageError as error:
                errors.append(str(error))
                tqdm.write(f"qrsr enhance: error: {error}", file=sys.stderr)
                continue
            done.append(result)
            tqdm.write(result.describe())
    read = [r for r in done if r.payloads]
    if len(args.inputs) > 1 or len(files) > 1:
        summary = f"qrsr enhance: {len(done)} enhanced, {len(errors)} bad input(s)"
        if args.decode:
            by_sr = sum(1 for r in read if not any(r.decoded["original"].values()))
            summary += f"; payload read from {len(read)}/{len(done)} ({by_sr} only after enhancing)"
        print(summary, file=sys.stderr)
    if errors:
        return 2
    return 1 if args.decode and not read else 0
