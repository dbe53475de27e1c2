"""Inference: decode rate vs speed of generator sizes, bicubic and WeChat's QR super-resolution CNN.

On the same ``--codes`` held-out realistic codes (``eval_seed``, never trained on), one row per
upscaler (uint8 LR -> uint8 x4):

- decode rate: exact payload read back by zxing (and OpenCV) from the upscaled image;
- upscale codes/s at batch 1 (one call per code, what ``enhance`` on one photo pays) and batch 64,
  through the package's own path (``inference.resolve``); the median of ``--repeats`` timed calls
  after a warm-up call;
- end-to-end codes/s: upscaling all codes in batches of 64 plus decoding them with zxing.

Generators: the tutorial's (16 x 64, nearest; random weights: speed only), the bundled 16 x 64 pixel
shuffle (``load_pretrained()``, and ``srgan`` when bundled), the compact 6 x 32 trained on the GPU
lease (``results/gpu_lease_h200/srresnet_6x32.weights.h5``). The peer: WeChat's QR CNNs in OpenCV
contrib, read from ``/work/shared/anchors/wechat_qrcode`` (``--wechat-dir``; never copied here):
(a) ``WeChatQRCode.detectAndDecode`` on the LR itself (its detector, its x2 SR, its own zxing port);
(b) its ``sr.caffemodel`` alone through ``cv2.dnn`` as an upscaler, x2 twice (grey), then zxing.

Then peak memory of ``enhance()`` on photo-sized inputs, each in a fresh process: resident set
before (model loaded, warmed up) and the process's peak (``ru_maxrss``). Two things set the peak:
the generator's activations on a tile (fixed size) and the image-sized buffers (input, output,
blending strips), which grow with the photo. A 4000 x 3000 photo through the bundled generator takes ~70 TFLOP (tens of
minutes on 2 cores), so by default the blending is measured at that size with a stand-in generator
(nearest x4, no compute) and the bundled generator's extra memory, measured at a common small size,
is added: an estimate, labelled so. ``--enhance-sizes 4000x3000`` measures it directly.

    python benchmarks/inference.py [--codes 500] [--enhance-sizes 320x240 640x480] [--standin-sizes 640x480 4000x3000]
    python benchmarks/inference.py --no-table          # the enhance() memory part alone
    python benchmarks/inference.py --runtimes          # runtime x precision of the bundled generator (runtimes.py)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import runtimes  # benchmarks/runtimes.py
from machine import median_seconds  # benchmarks/machine.py

from qrsr_helpers.config import get_config
from qrsr_helpers.data.pairs import load_or_generate
from qrsr_helpers.decode import decode_matches, to_gray_uint8

HERE = Path(__file__).parent
COMPACT = HERE / "results" / "gpu_lease_h200" / "srresnet_6x32.weights.h5"
WECHAT_FILES = ("detect.prototxt", "detect.caffemodel", "sr.prototxt", "sr.caffemodel")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=500, help="held-out realistic codes")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per speed (median)")
    parser.add_argument("--wechat-dir", type=Path, default=Path("/work/shared/anchors/wechat_qrcode"))
    parser.add_argument("--enhance-sizes", nargs="*", default=["320x240", "640x480"], metavar="WxH",
                        help="enhance() inputs measured with the bundled generator (none: skip)")
    parser.add_argument("--standin-sizes", nargs="*", default=["640x480", "4000x3000"], metavar="WxH",
                        help="enhance() inputs measured with a no-compute nearest x4 stand-in generator")
    parser.add_argument("--no-table", action="store_true", help="skip the decode-rate/speed table")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--runtimes", action="store_true",
                        help="only the runtime x precision table (benchmarks/runtimes.py) -> runtimes.{md,json}")
    parser.add_argument("--runtime-codes", type=int, default=256, help="codes for the runtime table")
    parser.add_argument("--runtime-child", help=argparse.SUPPRESS)  # internal: one runtime row
    parser.add_argument("--enhance-child", metavar="WxH", help=argparse.SUPPRESS)  # internal: one measurement
    parser.add_argument("--standin", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.codes < 64:
        parser.error(f"--codes {args.codes}: need at least 64 (one batch of 64)")
    for size in args.enhance_sizes + args.standin_sizes + ([args.enhance_child] if args.enhance_child else []):
        parse_size(size, parser)
    return args


def parse_size(text: str, parser: argparse.ArgumentParser | None = None) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
        if width > 0 and height > 0:
            return width, height
    except ValueError:
        pass
    message = f"size {text!r} is not WIDTHxHEIGHT, e.g. 4000x3000"
    if parser:
        parser.error(message)
    raise ValueError(message)


def speeds(upscale, lr: np.ndarray, repeats: int) -> dict[str, float]:
    """Upscale codes/s at batch 1 (16 single-code calls per timing) and at batch 64."""
    singles = lr[:16]
    b1 = median_seconds(lambda: [upscale(x[None]) for x in singles], repeats)
    b64 = median_seconds(lambda: upscale(lr[:64]), repeats)
    return {"codes_per_s_b1": len(singles) / b1, "codes_per_s_b64": 64 / b64}


def quality_and_end_to_end(upscale, pairs) -> dict[str, float]:
    """zxing/OpenCV decode rates, and codes/s of upscaling (batches of 64) + zxing decoding all codes."""
    start = time.perf_counter()
    sr = np.concatenate([upscale(pairs.lr[i:i + 64]) for i in range(0, len(pairs), 64)])
    zxing = decode_matches(sr, pairs.payloads, "zxing")
    seconds = time.perf_counter() - start
    return {"zxing": float(zxing.mean()), "opencv": float(decode_matches(sr, pairs.payloads, "opencv").mean()),
            "end_to_end_codes_per_s": len(pairs) / seconds}


def wechat_sr_upscaler(sr_net) -> callable:
    """WeChat's x2 SR CNN run twice as a x4 upscaler of uint8 RGB batches -> uint8 grey, with the
    scaling its C++ code uses (``SuperScale::superResoutionScale``: input / 255, output * 255, clipped
    and truncated to uint8). Its deconvolution + crop gives 2n - 1 pixels per pass (32 -> 63 -> 125),
    kept as WeChat produces them: the decoders do not need the exact x4 size."""

    def upscale(lr: np.ndarray) -> np.ndarray:
        grey = np.stack([to_gray_uint8(x) for x in lr])
        for _ in range(2):
            sr_net.setInput(grey[:, None].astype(np.float32) / 255.0)
            grey = np.clip(sr_net.forward()[:, 0] * 255.0, 0, 255).astype(np.uint8)
        return grey[..., None]

    return upscale


def wechat_rows(directory: Path, pairs, repeats: int) -> list[dict]:
    """The two WeChat rows, or none (with a message) when its model files are absent."""
    missing = [name for name in WECHAT_FILES if not (directory / name).is_file()]
    if missing:
        print(f"WeChat QR rows skipped: {', '.join(missing)} not found in {directory}")
        return []
    if not hasattr(cv2, "wechat_qrcode_WeChatQRCode"):
        print("WeChat QR rows skipped: this OpenCV has no wechat_qrcode module; pip install '.[benchmarks]' "
              "(OpenCV contrib) to compare with it")
        return []
    paths = [str(directory / name) for name in WECHAT_FILES]
    detector = cv2.wechat_qrcode_WeChatQRCode(*paths)
    bgr = [cv2.cvtColor(x, cv2.COLOR_RGB2BGR) for x in pairs.lr]
    start = time.perf_counter()
    found = [payload in detector.detectAndDecode(image)[0] for image, payload in zip(bgr, pairs.payloads)]
    seconds = time.perf_counter() - start
    single = median_seconds(lambda: [detector.detectAndDecode(image) for image in bgr[:16]], repeats)
    rows = [dict(upscaler="WeChat detectAndDecode on LR (its detector + x2 SR + decoder)", params=None,
                 zxing=None, opencv=None, wechat=float(np.mean(found)), codes_per_s_b1=16 / single,
                 codes_per_s_b64=None, end_to_end_codes_per_s=len(pairs) / seconds)]
    sr_net = cv2.dnn.readNetFromCaffe(paths[2], paths[3])
    upscale = wechat_sr_upscaler(sr_net)
    rows.append(dict(upscaler="WeChat sr.caffemodel x2 twice (cv2.dnn, grey)", params=sr_params(sr_net),
                     **quality_and_end_to_end(upscale, pairs), **speeds(upscale, pairs.lr, repeats)))
    return rows


def sr_params(net) -> int:
    """Parameter count of a cv2.dnn network (sum of its layers' weight blobs)."""
    total = 0
    for name in net.getLayerNames():
        total += sum(int(np.prod(blob.shape)) for blob in net.getLayer(name).blobs)
    return total


def enhance_child(size: str, standin: bool) -> None:
    """In a fresh process: RSS with the generator loaded and warmed up, then enhance() one random
    photo of ``size`` and report the peak RSS and the seconds it took (one JSON line). ``standin``:
    a nearest x4 generator without weights, so only the tiling and blending buffers cost memory."""
    import keras
    import psutil

    from qrsr_helpers import Enhancer, load_pretrained

    width, height = parse_size(size)
    if standin:
        generator = keras.Sequential([keras.Input((None, None, 3)), keras.layers.UpSampling2D(4)], name="standin")
    else:
        generator = load_pretrained()
    enhance = Enhancer(generator).enhance
    enhance(np.zeros((200, 200, 3), np.uint8))  # warm-up: tracing and TF's own buffers
    before = psutil.Process().memory_info().rss
    image = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    start = time.perf_counter()
    out = enhance(image)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    print("ENHANCE " + json.dumps(dict(size=size, generator=generator.name, pixels=width * height,
                                       output=list(out.shape), seconds=round(seconds, 1),
                                       rss_before_gib=round(before / 2**30, 2), peak_rss_gib=round(peak / 2**30, 2))))


def enhance_memory(sizes: list[str], standin: bool) -> list[dict]:
    rows = []
    for size in sizes:
        command = [sys.executable, __file__, "--enhance-child", size] + (["--standin"] if standin else [])
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        lines = [line for line in done.stdout.splitlines() if line.startswith("ENHANCE ")]
        if done.returncode or not lines:
            raise SystemExit(f"enhance() on {size} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
        rows.append(json.loads(lines[-1][8:]))
        print(f"enhance {size}: {rows[-1]}", flush=True)
    return rows


def estimate_peak(bundled: list[dict], standin: list[dict], size: str) -> float | None:
    """Peak RSS (GiB) of the bundled generator at ``size``: the stand-in's peak there plus the bundled
    generator's extra peak over the stand-in at a size both measured (None if either is missing).
    An upper bound: it assumes the tile activations and the image-sized buffers peak together."""
    at_size = [m for m in standin if m["size"] == size]
    common = [(b, s) for b in bundled for s in standin if b["size"] == s["size"]]
    if not at_size or not common:
        return None
    b, s = common[-1]
    return at_size[0]["peak_rss_gib"] + b["peak_rss_gib"] - s["peak_rss_gib"]


def memory_markdown(bundled: list[dict], standin: list[dict]) -> list[str]:
    lines = ["", "enhance() peak memory (its default tiling, a fresh process each):", "",
             "| generator | input | output | seconds | RSS before (GiB) | peak RSS (GiB) |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {m['generator']} | {m['size']} | {m['output'][1]}x{m['output'][0]} | {m['seconds']} | "
              f"{m['rss_before_gib']} | {m['peak_rss_gib']} |" for m in bundled + standin]
    if not any(m["size"] == "4000x3000" for m in bundled) and (guess := estimate_peak(bundled, standin, "4000x3000")):
        lines.append(f"| bundled, estimated (stand-in at 4000x3000 + bundled's extra at a small size) | 4000x3000 | "
                     f"16000x12000 | n/a | n/a | <= {guess:.1f} |")
    return lines


def fmt(value, kind: str) -> str:
    if value is None:
        return "n/a"
    return {"rate": f"{value:.1%}", "speed": f"{value:.1f}", "int": f"{value:,}"}[kind]


def main() -> None:
    args = parse_args()
    if args.runtime_child:
        runtimes.run_child(args.runtime_child)
        return
    if args.runtimes:
        rows, text = runtimes.table(args.runtime_codes, args.repeats)
        print(text)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "runtimes.md").write_text(text)
        (args.out / "runtimes.json").write_text(json.dumps(rows, indent=2))
        return
    if args.enhance_child:
        enhance_child(args.enhance_child, args.standin)
        return
    memory = {"bundled": enhance_memory(args.enhance_sizes, False), "standin": enhance_memory(args.standin_sizes, True)}
    args.out.mkdir(parents=True, exist_ok=True)
    if memory["bundled"] or memory["standin"]:
        header = f"{os.cpu_count()} CPU cores, {time.strftime('%Y-%m-%d')}"
        text = "\n".join([header] + memory_markdown(**memory)) + "\n"
        print(text)
        (args.out / "enhance_memory.md").write_text(text)
        (args.out / "enhance_memory.json").write_text(json.dumps(memory, indent=2))
    if not args.no_table:
        decode_speed_table(args)


def decode_speed_table(args: argparse.Namespace) -> None:
    """The decode-rate vs speed table (see the module docstring) -> inference.md / .json."""
    config = get_config("cpu")
    pairs = load_or_generate(config, "eval", n=args.codes, degradation="realistic")

    import keras

    from qrsr_helpers import load_pretrained
    from qrsr_helpers.evaluate import interpolation_upscaler, upscaler
    from qrsr_helpers.models import build_generator
    from qrsr_helpers.models.registry import bundled_path

    rows = []
    hr = {d: float(decode_matches(pairs.hr, pairs.payloads, d).mean()) for d in ("zxing", "opencv")}
    rows.append(dict(upscaler="HR itself (ceiling)", params=None, **hr, codes_per_s_b1=None, codes_per_s_b64=None,
                     end_to_end_codes_per_s=None))
    bicubic = interpolation_upscaler("bicubic", config.scale)
    rows.append(dict(upscaler="bicubic", params=0, **quality_and_end_to_end(bicubic, pairs),
                     **speeds(bicubic, pairs.lr, args.repeats)))
    keras.utils.set_random_seed(0)
    tutorial = build_generator(16, 2, "nearest", 3, 64, name="tutorial_16x64_nearest")
    rows.append(dict(upscaler="tutorial 16x64 nearest (random weights: speed only)", params=tutorial.count_params(),
                     zxing=None, opencv=None, end_to_end_codes_per_s=None,
                     **speeds(upscaler(tutorial), pairs.lr, args.repeats)))
    trained = {"bundled srresnet 16x64 pixel shuffle": load_pretrained(backend="keras")}  # runtimes: --runtimes
    if bundled_path("srgan").is_file():
        trained["bundled srgan 16x64 pixel shuffle"] = load_pretrained("srgan", backend="keras")
    if COMPACT.is_file():
        trained["compact srresnet 6x32 pixel shuffle (GPU lease)"] = load_pretrained(COMPACT, backend="keras")
    else:
        print(f"compact 6x32 row skipped: {COMPACT} not found")
    for name, generator in trained.items():
        upscale = upscaler(generator)
        rows.append(dict(upscaler=name, params=generator.count_params(), **quality_and_end_to_end(upscale, pairs),
                         **speeds(upscale, pairs.lr, args.repeats)))
        print(f"{name}: {rows[-1]}", flush=True)
    rows += wechat_rows(args.wechat_dir, pairs, args.repeats)

    lines = [f"{args.codes} held-out realistic codes (eval_seed {config.eval_seed}), 32x32 -> 128x128; "
             f"{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d')}",
             "", "| upscaler | params | zxing | OpenCV | WeChat | upscale codes/s, batch 1 | batch 64 | "
             "end-to-end codes/s (upscale + zxing) |", "|" + "---|" * 8]
    for r in rows:
        lines.append(f"| {r['upscaler']} | {fmt(r['params'], 'int')} | {fmt(r['zxing'], 'rate')} | "
                     f"{fmt(r['opencv'], 'rate')} | {fmt(r.get('wechat'), 'rate')} | "
                     f"{fmt(r['codes_per_s_b1'], 'speed')} | "
                     f"{fmt(r['codes_per_s_b64'], 'speed')} | {fmt(r['end_to_end_codes_per_s'], 'speed')} |")
    text = "\n".join(lines) + "\n"
    print(text)
    (args.out / "inference.md").write_text(text)
    (args.out / "inference.json").write_text(json.dumps(dict(rows=rows), indent=2))


if __name__ == "__main__":
    main()
