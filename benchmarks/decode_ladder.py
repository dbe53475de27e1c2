"""Which extra attempts are worth making when ``qrsr enhance --decode`` reads nothing (issue 22, item 1).

For every file: the first read as ``qrsr enhance --decode --fast`` makes it (``Enhancer().enhance_file``);
then, on the files it read nothing from (and whose region is small enough for the ladder to climb,
``inference.LADDER_MAX_PIXELS``), every candidate rung of ``_rungs()`` (below) on its own: exact reads,
misreads (a payload printed that is not the code's) and seconds. A rung is kept when, tried cheapest first
after the rungs already kept, it adds exact reads and never misreads on any set. Then the package's own
``LADDER`` is run for real next to ``--fast`` on the same files, in the same process, file by file (paired):
reads, misreads, mean seconds per file over all files, and the ``qrsr enhance FOLDER --decode`` process
with and without ``--fast`` on the real photos (the README procedure, payload printed = read).

Sets: the 64 real photos of ``../shared/real_photos_dev`` (relative to the repository root; skipped with a
message where absent, never copied into the repository) shrunk with ``cv2.INTER_AREA`` so the symbol is 32
and 24 px wide; synthetic photo-like scenes (``data.scenes.synthetic_photo``) at chosen px per module.

    python benchmarks/decode_ladder.py [--scenes 100] [--module-px 1.2 1.0] [--out benchmarks/results/decode_ladder.md]
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from machine import cpu_model  # benchmarks/machine.py
from real_photos import REAL, shrunk_real_photos  # benchmarks/real_photos.py

ROOT = Path(__file__).resolve().parents[1]


def _rungs() -> dict:
    """Every candidate rung, by name: the package's ``ladder.LADDER`` keeps some, the rest are measured here only."""
    import cv2
    import zxingcpp

    from qrsr_helpers import decode as decoding
    from qrsr_helpers.decode import MIN_SYMBOL_PX, DecodeResult, _side, _zxing_read, decode, decode_all, to_gray_uint8
    from qrsr_helpers.ladder import ensemble, erasures, rescaled

    def bicubic(attempt):
        """The region x4 by bicubic interpolation instead of the generator, decoded like an enhancement."""
        h, w = attempt.crop.shape[:2]
        return None, decode_all(cv2.resize(attempt.crop, (w * 4, h * 4), interpolation=cv2.INTER_CUBIC),
                                enhanced=True)

    def region(attempt):
        """The region alone, as it is (the whole photo was already read): zxing and OpenCV."""
        return None, {d: decode(attempt.crop, d) for d in ("zxing", "opencv")}

    def zxing_binarizer(binarizer, name):
        """zxing with another binarizer on the first enhancement (the cascade's: LocalAverage)."""
        def rung(attempt):
            found = zxingcpp.read_barcodes(to_gray_uint8(attempt.sr), formats=zxingcpp.BarcodeFormat.QRCode,
                                           text_mode=zxingcpp.TextMode.HexECI, binarizer=binarizer)
            reads = tuple(_zxing_read(r) for r in found
                          if r.valid and _side(decoding.zxing_corners(r)) >= MIN_SYMBOL_PX)
            return None, {"zxing": DecodeResult("zxing", reads)}

        rung.__name__ = name
        return rung

    rungs = (zxing_binarizer(zxingcpp.Binarizer.GlobalHistogram, "global_histogram"),
             zxing_binarizer(zxingcpp.Binarizer.FixedThreshold, "fixed_threshold"), region, bicubic, rescaled(0.75),
             rescaled(1.25), rescaled(1.5), ensemble, erasures)
    return {rung.__name__: rung for rung in rungs}


def scene_set(folder: Path, n: int, module_px: float, first_seed: int = 1000) -> list[tuple[Path, str]]:
    from qrsr_helpers.data.scenes import synthetic_photo
    from qrsr_helpers.io import write_image

    folder.mkdir(parents=True)
    files = []
    for seed in range(first_seed, first_seed + n):
        photo = synthetic_photo(seed, module_px=module_px)
        path = folder / f"scene{seed}.png"
        write_image(path, photo.image.copy())
        files.append((path, photo.payload))
    return files


def measure(files: list[tuple[Path, str]], generator, out: Path) -> dict:
    """Per file: --fast, the package's LADDER (paired, alternating which runs first) and, where the first read
    failed, every candidate rung alone."""
    from qrsr_helpers.inference import LADDER_MAX_PIXELS, Enhancer
    from qrsr_helpers.io import read_image
    from qrsr_helpers.ladder import LADDER, Attempt

    enhancers = {"fast": Enhancer(generator, ladder=()), "ladder": Enhancer(generator, ladder=LADDER)}
    rows = []
    for i, (path, payload) in enumerate(files):
        runs = {}
        for variant in (("fast", "ladder") if i % 2 == 0 else ("ladder", "fast")):
            runs[variant] = enhancers[variant].enhance_file(path, out / f"{variant}.png", decode=True)
        fast, ladder = runs["fast"], runs["ladder"]
        row = {"file": path.name, "fast_read": payload in fast.payloads,
               "fast_misread": bool(set(fast.payloads) - {payload}),
               "fast_s": fast.seconds, "fast_any": bool(fast.payloads), "ladder_read": payload in ladder.payloads,
               "ladder_misread": bool(set(ladder.payloads) - {payload}), "ladder_s": ladder.seconds,
               "read_by": ladder.read_by, "rungs": {}}
        x0, y0, x1, y1 = fast.box
        row["region_px"] = (x1 - x0) * (y1 - y0)
        if not fast.payloads and row["region_px"] <= LADDER_MAX_PIXELS:
            image = read_image(path)
            attempt = Attempt(image[y0:y1, x0:x1], read_image(out / "fast.png"), enhancers["fast"])
            for name, rung in _rungs().items():
                start = time.perf_counter()
                _, decoded = rung(attempt)
                seconds = time.perf_counter() - start
                texts = {t for result in decoded.values() for t in result.texts}
                row["rungs"][name] = {"read": payload in texts, "misread": bool(texts - {payload}),
                                      "any": bool(texts), "s": seconds}
        rows.append(row)
    return {"rows": rows}


def ladder_reads(tries: list[dict], names: list[str]) -> int:
    """Files read exactly by the ladder ``names``: in order, the first rung that reads anything decides."""
    return sum(next((t[name]["read"] for name in names if t[name]["any"]), False) for t in tries)


def choose(sets: dict[str, list[dict]]) -> tuple[list[str], dict]:
    """Rungs cheapest first (mean seconds over every try); keep one when it never misreads on any set and,
    after the rungs kept before it, reads a file none of them read. Then, most expensive first, drop a kept
    rung the others make redundant (the ladder without it reads as many files). Returns the kept names, in
    order, and why each candidate was kept or dropped."""
    tries = [r["rungs"] for rows in sets.values() for r in rows if r["rungs"]]
    if not tries:
        return [], {}
    names = list(tries[0])
    cost = {name: float(np.mean([t[name]["s"] for t in tries])) for name in names}
    kept, why = [], {}
    for name in sorted(names, key=cost.get):
        misreads = sum(t[name]["misread"] for t in tries)
        # files the ladder so far stops on (any read) before this rung
        new = sum(1 for t in tries if t[name]["read"] and not any(t[k]["any"] for k in kept))
        if misreads:
            why[name] = f"dropped: {misreads} misread(s)"
        elif not new:
            why[name] = "dropped: reads nothing the rungs before it miss"
        else:
            kept.append(name)
            why[name] = f"kept: +{new} read(s) after the rungs before it"
    for name in sorted(kept, key=cost.get, reverse=True):
        rest = [k for k in kept if k != name]
        if len(kept) > 1 and ladder_reads(tries, rest) >= ladder_reads(tries, kept):
            kept = rest
            why[name] = "dropped: the other kept rungs read every file it does"
    return kept, why


def cli_run(folder: Path, payloads: dict[str, str], fast: bool, out: Path) -> dict:
    """``qrsr enhance FOLDER -o OUT --decode [--fast]`` as a user runs it: wall seconds, files whose exact payload
    was printed (the README procedure), and printed payloads that are not the file's."""
    from qrsr_helpers.errors import printable

    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "qrsr_helpers.cli", "enhance", str(folder), "-o", str(out),
                           "--decode", *(["--fast"] if fast else [])], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    blocks, current = {}, None
    for line in done.stdout.splitlines():
        if not line.startswith(" "):
            current = Path(line.split(" -> ")[0]).name
            blocks[current] = []
        elif current:
            blocks[current].append(line)
    read = sum(printable(json.dumps(p, ensure_ascii=False)) in "\n".join(blocks.get(f, []))
               for f, p in payloads.items())
    return {"wall": wall, "read": read, "files": len(payloads), "exit": done.returncode}


def markdown(results: dict, kept: list[str], why: dict, command: str, cli: dict) -> str:
    sets = results
    lines = [f"{cpu_model()}, {len(__import__('os').sched_getaffinity(0))} cores, "
             f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; command: `{command}`", "",
             "What each rung reads **alone** on the files the first read (`--fast`) missed, where the ladder climbs "
             "(region up to `inference.LADDER_MAX_PIXELS`); a misread is a payload printed that is not the file's.", ""]
    names = list(next(r["rungs"] for rows in sets.values() for r in rows["rows"] if r["rungs"]))
    head = "| rung | " + " | ".join(f"{s}: reads / misreads" for s in sets) + " | mean s per try | verdict |"
    lines += [head, "|" + "---|" * (len(sets) + 3)]
    for name in names:
        cells, times = [], []
        for rows in sets.values():
            tries = [r["rungs"][name] for r in rows["rows"] if r["rungs"]]
            cells.append(f"{sum(t['read'] for t in tries)} / {sum(t['misread'] for t in tries)}")
            times += [t["s"] for t in tries]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {np.mean(times):.3f} | {why.get(name, '')} |")
    tries = [r["rungs"] for rows in sets.values() for r in rows["rows"] if r["rungs"]]
    lines += ["", f"Kept, in order: {', '.join(kept) or 'none'} ({ladder_reads(tries, kept)} of the {len(tries)} "
              "files climbed read, every set together).", "",
              "The package's `LADDER` run for real beside `--fast`, file by file in one process (paired; seconds = "
              "what the report prints, model loaded):", "",
              "| set | files | first read failed | ladder climbed | reads --fast | reads default | misreads --fast / "
              "default | mean s/file --fast | mean s/file default | ratio |", "|" + "---|" * 10]
    for name, rows in sets.items():
        r = rows["rows"]
        fast_s, ladder_s = np.mean([x["fast_s"] for x in r]), np.mean([x["ladder_s"] for x in r])
        climbed = sum(1 for x in r if x["rungs"])
        lines.append(f"| {name} | {len(r)} | {sum(not x['fast_any'] for x in r)} | "
                     f"{climbed} | {sum(x['fast_read'] for x in r)} | {sum(x['ladder_read'] for x in r)} | "
                     f"{sum(x['fast_misread'] for x in r)} / {sum(x['ladder_misread'] for x in r)} | {fast_s:.3f} | "
                     f"{ladder_s:.3f} | {ladder_s / fast_s:.2f} |")
    by = {}
    for name, rows in sets.items():
        for x in rows["rows"]:
            if x["read_by"]:
                by.setdefault(name, {}).setdefault(x["read_by"], 0)
                by[name][x["read_by"]] += x["ladder_read"]
    lines += ["", "Read by a rung (default): " + "; ".join(f"{s}: {d}" for s, d in by.items()) if by else
              "Read by a rung (default): none"]
    if any(x["file"] == "jsqr_170.png" and x["fast_misread"] for rows in sets.values() for x in rows["rows"]):
        lines += ["", "The `--fast` \"misread\" of jsqr_170.png is no misread: the photo is a \"double QR\" and the "
                  "payload printed is its outer code's (`[外側QRコード]...`), the manifest's its inner code's; the "
                  "first read succeeded there, so no rung ran on it."]
    if cli:
        lines += ["", "`qrsr enhance FOLDER -o OUT --decode [--fast]` as a process (Python start and model load "
                  "included), real photos, payload printed = read:", "",
                  "| set | files | reads --fast | reads default | wall s --fast | wall s default | s/file --fast | "
                  "s/file default |", "|" + "---|" * 8]
        for name, (fast, default) in cli.items():
            n = fast["files"]
            lines.append(f"| {name} | {n} | {fast['read']} | {default['read']} | {fast['wall']:.1f} | "
                         f"{default['wall']:.1f} | {fast['wall'] / n:.3f} | {default['wall'] / n:.3f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenes", type=int, default=100, help="synthetic scenes per module size (0: none)")
    parser.add_argument("--module-px", type=float, nargs="+", default=[1.2, 1.0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "decode_ladder.md"))
    args = parser.parse_args()
    from qrsr_helpers.models.registry import load_pretrained

    generator = load_pretrained(backend=None)
    sets, cli = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "out").mkdir()
        inputs = {}
        if (REAL / "manifest.json").is_file():
            for target in (32, 24):
                inputs[f"real @{target} px"] = [(f["path"], f["payload"])
                                                for f in shrunk_real_photos(tmp / f"real{target}", target)]
        else:
            print(f"{REAL}: absent, the real photos are skipped (synthetic scenes only)", file=sys.stderr)
        for module_px in args.module_px if args.scenes else ():
            inputs[f"scenes @{module_px:g} px/module"] = scene_set(tmp / f"scenes{module_px:g}", args.scenes, module_px)
        for name, files in inputs.items():
            start = time.perf_counter()
            sets[name] = measure(files, generator, tmp / "out")
            print(f"{name}: {len(files)} files, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        for name, files in inputs.items():
            if name.startswith("real"):
                payloads = {p.name: payload for p, payload in files}
                folder = files[0][0].parent
                cli[name] = (cli_run(folder, payloads, True, tmp / "cli_fast"),
                             cli_run(folder, payloads, False, tmp / "cli_default"))
    kept, why = choose({name: s["rows"] for name, s in sets.items()})
    command = "python benchmarks/decode_ladder.py " + " ".join(sys.argv[1:])
    text = markdown(sets, kept, why, command.strip(), cli)
    Path(args.out).write_text(text)
    Path(args.out).with_suffix(".json").write_text(json.dumps({"sets": sets, "kept": kept, "why": why, "cli": cli},
                                                               default=float))
    print(text)


if __name__ == "__main__":
    main()
