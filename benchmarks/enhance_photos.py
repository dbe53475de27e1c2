"""`qrsr enhance` on photos: where the time goes on a 640 x 480 photo, and peak memory on 4000 x 3000.

Prints three measured tables (no asserted times):

0. the whole ``qrsr enhance photo.jpg --decode`` process per backend (the fast ONNX/OpenVINO path, Keras);
1. per-step wall time of what ``qrsr enhance --decode`` does to one 640 x 480 photo once the model is
   loaded (read, locate, enhance the region, decode before/after, write), over synthetic photos at
   several module sizes;
2. peak RSS of a ``qrsr enhance`` process on a 4000 x 3000 photo: the located-code path, and the tiled
   whole-image path (``--whole``). The whole-image path with the bundled generator takes the better part of
   an hour on a laptop CPU, so by default it is sampled (RSS polled) for ``--whole-seconds`` and stopped;
   memory is flat from the first strip of tiles on, which the polled trace shows.

    python benchmarks/enhance_photos.py [--photos 9] [--whole-seconds 120] [--tiny]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import PEAK_RSS  # benchmarks/common.py


def step_times(n_photos: int, folder: Path) -> None:
    from qrsr_helpers import Enhancer
    from qrsr_helpers.data.scenes import synthetic_photo
    from qrsr_helpers.decode import decode_all
    from qrsr_helpers.io import read_image, write_image
    from qrsr_helpers.locate import locate
    from qrsr_helpers.models.registry import load_pretrained, runtime_label

    start = time.perf_counter()
    generator = load_pretrained(backend=None)  # what qrsr enhance loads: the fast path unless QRSR_BACKEND=keras
    loaded = time.perf_counter()
    print(f"generator: {runtime_label(generator)}")
    enhance = Enhancer(generator).enhance
    enhance(np.zeros((32, 32, 3), np.uint8))  # first call: the runtime's one-off kernel setup
    print(f"model load {loaded - start:.2f} s, first (warm-up) call {time.perf_counter() - loaded:.2f} s")
    rows = []
    for i in range(n_photos):
        module_px = (1.6, 2.0, 2.5)[i % 3]
        photo = synthetic_photo(500 + i, module_px=module_px)
        source = folder / f"photo{i}.jpg"
        write_image(source, photo.image.copy())
        times = {}
        start = time.perf_counter()
        image = read_image(source)
        times["read"] = time.perf_counter() - start
        region = locate(image)
        times["locate"] = time.perf_counter() - start - sum(times.values())
        x0, y0, x1, y1 = region.box if region else (0, 0, image.shape[1], image.shape[0])
        sr = enhance(image[y0:y1, x0:x1])
        times["enhance"] = time.perf_counter() - start - sum(times.values())
        read = [r.texts for r in decode_all(image).values()] + [r.texts for r in decode_all(sr).values()]
        times["decode x4"] = time.perf_counter() - start - sum(times.values())
        write_image(folder / f"photo{i}.x4.png", sr)
        times["write"] = time.perf_counter() - start - sum(times.values())
        rows.append(dict(module_px=module_px, region=f"{x1 - x0}x{y1 - y0}", **times,
                         total=time.perf_counter() - start, read_ok=any(photo.payload in r for r in read)))
    print(f"\n1. qrsr enhance --decode on one 640 x 480 photo, model loaded (seconds per step, {n_photos} photos)\n")
    header = ["module_px", "region", "read", "locate", "enhance", "decode x4", "write", "total", "read_ok"]
    print(" ".join(f"{h:>9}" for h in header))
    for row in rows:
        print(" ".join(f"{row[h]:>9.3f}" if isinstance(row[h], float) else f"{str(row[h]):>9}" for h in header))
    totals = [r["total"] for r in rows]
    print(f"median total {statistics.median(totals):.3f} s, min {min(totals):.3f} s, max {max(totals):.3f} s")


def process_times(n_photos: int, folder: Path) -> None:
    """Wall time of the whole ``qrsr enhance photo.jpg -o out.png --decode`` process (Python start, imports,
    model load, work), per backend: what a user waits for."""
    from qrsr_helpers.data.scenes import synthetic_photo
    from qrsr_helpers.io import write_image

    photos = []
    for i in range(n_photos):
        photo = synthetic_photo(600 + i, module_px=(1.6, 2.0, 2.5)[i % 3])
        photos.append(folder / f"whole{i}.jpg")
        write_image(photos[-1], photo.image.copy())
    print(f"\n0. the whole `qrsr enhance photo.jpg -o out.png --decode` process, 640 x 480, {n_photos} photos\n")
    for backend in ("auto", "keras"):
        walls = []
        for source in photos:
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "qrsr_helpers.cli", "enhance", str(source), "-o",
                                   str(folder / "whole.x4.png"), "--decode", "--backend", backend],
                                  capture_output=True, text=True)
            walls.append(time.perf_counter() - start)
            runtime = done.stdout.split(" s, ")[1].split("]")[0] if " s, " in done.stdout else f"exit {done.returncode}"
        print(f"--backend {backend:<6} ({runtime}): median {statistics.median(walls):.2f} s, "
              f"min {min(walls):.2f} s, max {max(walls):.2f} s", flush=True)


def big_photo(path: Path) -> None:
    from qrsr_helpers.data.scenes import synthetic_photo
    from qrsr_helpers.io import write_image

    big = np.full((3000, 4000, 3), 120, np.uint8)
    big[:, :, 1] = np.linspace(60, 200, 4000, dtype=np.uint8)[None, :]
    big[1700:2180, 2100:2740] = synthetic_photo(5, module_px=2.0).image
    write_image(path, big)


def tiny_weights(folder: Path) -> Path:
    from qrsr_helpers.models import build_generator

    architecture = dict(n_res_blocks=0, filters=4, upsampling="pixel_shuffle", channels=3)
    build_generator(n_upscale=2, **architecture).save_weights(folder / "tiny.weights.h5")
    (folder / "tiny.run.json").write_text(json.dumps({"architecture": architecture}))
    return folder / "tiny.weights.h5"


def peak_rss(args: list[str], seconds: float | None) -> tuple[str, float, float]:
    """(how it ended, peak RSS in MiB, wall seconds) of ``qrsr <args>``; polled and stopped after ``seconds``."""
    import psutil

    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", PEAK_RSS, *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    peak = 0
    process = psutil.Process(child.pid)
    while child.poll() is None:
        try:
            peak = max(peak, process.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        if seconds is not None and time.perf_counter() - start > seconds:
            child.kill()
            child.wait()
            return f"stopped after {seconds:.0f} s (polled)", peak / 2**20, time.perf_counter() - start
        time.sleep(0.2)
    _, err = child.communicate()
    reported = [int(line.split("=")[1]) for line in err.splitlines() if line.startswith("peak_rss_kb=")]
    ended = f"exit {child.returncode}"
    return ended, (reported[0] / 2**10 if reported else peak / 2**20), time.perf_counter() - start


def memory(folder: Path, whole_seconds: float, tiny: bool) -> None:
    source = folder / "big.png"
    big_photo(source)
    runs = [("located code, bundled, --decode", ["enhance", str(source), "--decode", "-o", str(folder / "a.png")],
             None),
            ("--whole, bundled", ["enhance", str(source), "--whole", "-o", str(folder / "b.png")], whole_seconds)]
    if tiny:
        weights = str(tiny_weights(folder))
        runs.append(("--whole, tiny 0x4 generator", ["enhance", str(source), "--whole", "--weights", weights,
                                                      "-o", str(folder / "c.png")], None))
    print("\n2. peak RSS of `qrsr enhance` on a 4000 x 3000 photo\n")
    print(f"{'run':<34} {'ended':<28} {'peak RSS MiB':>12} {'wall s':>8}")
    for name, args, seconds in runs:
        ended, mib, wall = peak_rss(args, seconds)
        print(f"{name:<34} {ended:<28} {mib:>12.0f} {wall:>8.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=9, help="640 x 480 photos to time (0: skip)")
    parser.add_argument("--whole-seconds", type=float, default=120.0)
    parser.add_argument("--tiny", action="store_true", help="also run --whole to the end with a tiny generator")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qrsr-bench-") as tmp:
        if args.photos:
            process_times(args.photos, Path(tmp))
            step_times(args.photos, Path(tmp))
        memory(Path(tmp), args.whole_seconds, args.tiny)


if __name__ == "__main__":
    main()
