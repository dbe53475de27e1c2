"""SRGAN training throughput: the tutorial's loop vs qrsr's ``SRGAN.fit``, and what moves it.

Every row is one variant run in its own Python process (so thread settings and compiled functions
never leak between rows), on the same synthetic pairs, after warm-up (tracing, XLA compilation):

- images/s: training images per second over at least ``--seconds`` and 2 steps;
- model GFLOP/image: the work an SRGAN step needs, counted the same way for every loop, from the
  layer shapes (``qrsr_helpers.models.conv_macs``, 2 FLOPs per MAC):
  ``3 G`` (forward + backward) + ``7 D`` (forward + backward on real and fake, plus the backward
  to G's image) + ``3 VGG`` (HR and SR forward, backward to SR). The tutorial's loop does
  ``4 G + 8 D + 3 VGG`` (its extra ``predict_on_batch`` and discriminator pass), which is not credited;
- GFLOP/s and % of peak: model FLOPs per second against the machine's GEMM peak: the best float32
  ``--gemm`` square matmul seen in the run, timed in every variant's process just before it, in
  TensorFlow (``tf.matmul``) and in NumPy (OpenBLAS), which is faster than TF's on some CPUs. The
  per-row GEMM columns show how much of the machine the row got (it is shared with other jobs; the
  load average is printed too). "% of peak per CPU s" is model FLOPs per CPU second of the process
  against the peak per core: how well the loop used the CPU time it was given, whatever else ran.

Tables: the tutorial's architecture (16 x 64, nearest upsampling, discriminator 64) with the
variants, then each profile's own model (cpu: 6 x 32 pixel shuffle, D 32; gpu: 16 x 64 pixel
shuffle, D 64), the tutorial's loop against qrsr's trainer, each with its own losses: the tutorial's
loop always uses VGG features, qrsr uses the profile's ``content_loss`` (cpu: pixel, no VGG). VGG
weights are random (the cost is the same as ImageNet's). Writes ``train_throughput.md`` and ``.json`` to ``--out``.

    python benchmarks/train_throughput.py                       # all rows, ~30 min on a 2-core CPU
    python benchmarks/train_throughput.py --variants tutorial_b1 qrsr_b16_xla --seconds 30

Rows measured by an earlier run and not re-run are kept from ``train_throughput.json`` (re-run a
row that ran under heavy load; a row older than the script's current GEMM columns is dropped).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from machine import cpu_model  # benchmarks/machine.py

# name: (table, loop, profile, model overrides, batch size, jit_compile, intra-op threads, what it tries)
TUTORIAL_ARCH = dict(n_res_blocks=16, filters=64, upsampling="nearest", disc_filters=64)
VARIANTS: dict[str, tuple] = {
    "tutorial_b1": ("tutorial architecture", "tutorial", "gpu", TUTORIAL_ARCH, 1, False, None, "the reference"),
    "tutorial_b16": ("tutorial architecture", "tutorial", "gpu", TUTORIAL_ARCH, 16, False, None,
                     "tutorial loop, batch 16"),
    "qrsr_b1": ("tutorial architecture", "qrsr", "gpu", TUTORIAL_ARCH, 1, False, None, "one train_step, batch 1"),
    "qrsr_b16": ("tutorial architecture", "qrsr", "gpu", TUTORIAL_ARCH, 16, False, None, "+ batch 16"),
    "qrsr_b16_xla": ("tutorial architecture", "qrsr", "gpu", TUTORIAL_ARCH, 16, True, None, "+ jit_compile (XLA)"),
    "qrsr_b32_xla": ("tutorial architecture", "qrsr", "gpu", TUTORIAL_ARCH, 32, True, None, "batch 32"),
    "qrsr_b16_xla_1thread": ("tutorial architecture", "qrsr", "gpu", TUTORIAL_ARCH, 16, True, 1, "1 intra-op thread"),
    "qrsr_b16_xla_ps": ("tutorial architecture", "qrsr", "gpu", {**TUTORIAL_ARCH, "upsampling": "pixel_shuffle"}, 16,
                        True, None, "pixel shuffle generator"),
    "qrsr_b16_xla_ps_d32": ("tutorial architecture", "qrsr", "gpu",
                            {**TUTORIAL_ARCH, "upsampling": "pixel_shuffle", "disc_filters": 32}, 16, True, None,
                            "pixel shuffle + discriminator 32"),
    "cpu_tutorial_b1": ("cpu profile (6x32 pixel shuffle, D 32)", "tutorial", "cpu", {}, 1, False, None,
                        "tutorial loop"),
    "cpu_qrsr": ("cpu profile (6x32 pixel shuffle, D 32)", "qrsr", "cpu", {}, 16, True, None, "qrsr, profile settings"),
    "gpu_tutorial_b1": ("gpu profile (16x64 pixel shuffle, D 64)", "tutorial", "gpu", {}, 1, False, None,
                        "tutorial loop"),
    "gpu_qrsr": ("gpu profile (16x64 pixel shuffle, D 64)", "qrsr", "gpu", {}, 16, True, None,
                 "qrsr, profile settings but batch 16 (64 on a GPU)"),
}
REFERENCE = {"tutorial architecture": "tutorial_b1", "cpu profile (6x32 pixel shuffle, D 32)": "cpu_tutorial_b1",
             "gpu profile (16x64 pixel shuffle, D 64)": "gpu_tutorial_b1"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seconds", type=float, default=20.0, help="minimum timed seconds per variant")
    parser.add_argument("--gemm", type=int, default=2048, help="side of the float32 matmul measuring the peak")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--one", choices=list(VARIANTS), help=argparse.SUPPRESS)  # internal: run one variant
    return parser.parse_args()




@dataclass
class Timing:
    """Work done in a timed window: wall seconds and this process's CPU seconds (all threads)."""

    items: int  # images
    wall: float
    cpu: float
    steps: int = 0


def gemm_gflops(n: int, repeats: int = 3) -> dict[str, float]:
    """GFLOP/s of the fastest of ``repeats`` n x n float32 matmuls (2 n^3 FLOPs), after a warm-up,
    in TensorFlow and in NumPy."""
    import tensorflow as tf

    tf_matmul = tf.function(tf.matmul)
    a, b = tf.random.normal([n, n]), tf.random.normal([n, n])
    x, y = a.numpy(), b.numpy()
    result = {}
    for name, call in (("tf", lambda: tf_matmul(a, b).numpy()), ("numpy", lambda: x @ y)):
        call()
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            call()
            best = min(best, time.perf_counter() - start)
        result[name] = 2 * n**3 / best / 1e9
    return result


def model_gflops_per_image(generator, discriminator, vgg, config) -> float:
    """3 G + 7 D + 3 VGG forward FLOPs (see the module docstring), from layer shapes; pixel loss costs ~0."""
    import keras

    from qrsr_helpers.models import conv_macs

    def macs(model, hw) -> int:  # conv_macs counts top-level layers: add nested models (VGG's body)
        nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
        return conv_macs(model, hw) + sum(macs(m, hw) for m in nested)

    flops = lambda model, hw: 2 * macs(model, hw)

    hr = (config.hr_size, config.hr_size)
    g, d = flops(generator, (config.lr_size, config.lr_size)), flops(discriminator, hr)
    v = flops(vgg, hr) if vgg is not None else 0  # content_loss="pixel" (the cpu profile's GAN stage): no VGG
    return (3 * g + 7 * d + 3 * v) / 1e9


def time_tutorial(config, lr, hr, seconds: float) -> tuple[Timing, tuple]:
    """The tutorial's loop (qrsr_helpers/tutorial.py), timed after two untimed steps (tracing)."""
    from qrsr_helpers.tutorial import build_tutorial_models, tutorial_step

    models = build_tutorial_models(config.hr_size, config.scale, config.n_res_blocks, config.filters,
                                   config.upsampling, config.disc_filters, None, config.vgg_layer)
    b = config.batch_size
    batches = [(lr[i:i + b], hr[i:i + b]) for i in range(0, len(lr) - b + 1, b)]
    for x, y in batches[:2]:
        tutorial_step(models, x, y)
    steps, start, cpu = 0, time.perf_counter(), time.process_time()
    while steps < 2 or time.perf_counter() - start < seconds:
        tutorial_step(models, *batches[steps % len(batches)])
        steps += 1
    timing = Timing(steps * b, time.perf_counter() - start, time.process_time() - cpu, steps)
    return timing, (models.generator, models.discriminator, models.vgg)


def time_qrsr(config, pairs, seconds: float) -> tuple[Timing, tuple]:
    """images/s of ``SRGAN.fit`` (qrsr_helpers.training.build_srgan, PairBatches), timed from the end
    of the second step (the first traces and compiles) to the end of the last."""
    import keras

    from qrsr_helpers.data.arrays import PairBatches
    from qrsr_helpers.models import build_vgg
    from qrsr_helpers.models.registry import generator_from_config
    from qrsr_helpers.training import build_srgan

    gan = build_srgan(config, generator_from_config(config))
    marks: list[tuple[float, float]] = []  # (wall, cpu) at the end of each step

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            float(logs["g_loss"])  # wait for the step to finish
            marks.append((time.perf_counter(), time.process_time()))
            if len(marks) >= 4 and marks[-1][0] - marks[1][0] >= seconds:  # >= 2 timed steps after 2 warm-up
                self.model.stop_training = True

    batches = PairBatches(pairs, config.batch_size, seed=0, steps_per_epoch=100_000)
    gan.fit(batches, epochs=1, verbose=0, callbacks=[Clock()])
    steps = len(marks) - 2
    timing = Timing(steps * config.batch_size, marks[-1][0] - marks[1][0], marks[-1][1] - marks[1][1], steps)
    vgg = None if config.content_loss == "pixel" else build_vgg(config.vgg_layer, None, channels=config.channels)
    return timing, (gan.generator, gan.discriminator, vgg)  # the VGG inside the content loss, for its FLOPs


def run_one(name: str, args: argparse.Namespace) -> dict:
    """Measure one variant in this process and return its row."""
    table, loop, profile, overrides, batch, jit, threads, note = VARIANTS[name]
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    from qrsr_helpers.config import get_config
    from qrsr_helpers.data.pairs import load_or_generate

    keras.utils.set_random_seed(0)
    config = get_config(profile, **overrides, batch_size=batch, jit_compile=jit, vgg_weights=None,
                        mixed_precision=None)
    pairs = load_or_generate(config, "train", n=64)
    gemm = gemm_gflops(args.gemm)
    if loop == "tutorial":
        lr, hr = (a.astype("float32") / 255.0 for a in (pairs.lr, pairs.hr))
        run, models = time_tutorial(config, lr, hr, args.seconds)
    else:
        run, models = time_qrsr(config, pairs, args.seconds)
    per_image = model_gflops_per_image(*models, config)
    return dict(name=name, table=table, loop=loop, note=note, batch=batch, jit=jit, threads=threads or "default",
                model=f"{config.n_res_blocks}x{config.filters} {config.upsampling}, D {config.disc_filters}",
                images_per_s=round(run.items / run.wall, 3), cpu_s_per_image=round(run.cpu / run.items, 3),
                timed_steps=run.steps, gflop_per_image=round(per_image, 2),
                gflops=round(run.items * per_image / run.wall, 1),
                gflop_per_cpu_s=round(run.items * per_image / run.cpu, 1),
                gemm_tf_gflops=round(gemm["tf"], 1), gemm_numpy_gflops=round(gemm["numpy"], 1),
                load_avg=round(os.getloadavg()[0], 1), date=time.strftime("%Y-%m-%d %H:%M"))


def machine_peak(rows: list[dict]) -> float:
    """The best GEMM GFLOP/s any row measured (TF or NumPy, default threads): the machine's peak."""
    return max(max(r["gemm_tf_gflops"], r["gemm_numpy_gflops"]) for r in rows if r["threads"] == "default")


def markdown(rows: list[dict]) -> str:
    """One table per ``table``, each row with its speed-up over that table's reference row."""
    peak, cores = machine_peak(rows), os.cpu_count() or 1
    lines = [f"Machine GEMM peak (best float32 matmul of the run): {peak:.1f} GFLOP/s, {peak / cores:.1f} per core."]
    for table in dict.fromkeys(r["table"] for r in rows):
        ref = next((r for r in rows if r["name"] == REFERENCE[table]), None)
        lines += [f"\n**{table}**\n", "| variant | loop | batch | XLA | threads | images/s | x tutorial loop | "
                  "CPU s/image | GFLOP/image | GFLOP/s | % of peak | % of peak per CPU s | GEMM now TF / NumPy | "
                  "load avg |", "|" + "---|" * 14]
        for r in (r for r in rows if r["table"] == table):
            ratio = f"{r['images_per_s'] / ref['images_per_s']:.1f}x" if ref else "n/a"
            jit = "on" if r["jit"] else "off"
            lines.append(f"| {r['note']} (`{r['name']}`) | {r['loop']} | {r['batch']} | {jit} | "
                         f"{r['threads']} | {r['images_per_s']:.2f} | {ratio} | {r['cpu_s_per_image']:.2f} | "
                         f"{r['gflop_per_image']:.1f} | {r['gflops']} | {100 * r['gflops'] / peak:.0f}% | "
                         f"{100 * r['gflop_per_cpu_s'] / (peak / cores):.0f}% | "
                         f"{r['gemm_tf_gflops']:.0f} / {r['gemm_numpy_gflops']:.0f} | {r['load_avg']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    args = parse_args()
    if args.one:  # child process: print the row as the last line
        print("ROW " + json.dumps(run_one(args.one, args)), flush=True)
        return
    from qrsr_helpers.config import get_config
    from qrsr_helpers.data.pairs import load_or_generate

    for profile in ("cpu", "gpu"):  # make (and cache) the pairs once, before the children read them
        load_or_generate(get_config(profile), "train", n=64)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    previous = out / "train_throughput.json"
    kept = json.loads(previous.read_text())["rows"] if previous.is_file() else []
    kept = {r["name"]: r for r in kept if r["name"] not in args.variants and "gemm_tf_gflops" in r}
    rows, started = [], time.time()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    for name in args.variants:
        command = [sys.executable, __file__, "--one", name, "--seconds", str(args.seconds), "--gemm", str(args.gemm)]
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        row_lines = [line for line in done.stdout.splitlines() if line.startswith("ROW ")]
        if done.returncode or not row_lines:
            raise SystemExit(f"variant {name} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
        rows.append(json.loads(row_lines[-1][4:]))
        print(f"{name}: {rows[-1]['images_per_s']} images/s, {rows[-1]['gflops']} GFLOP/s, GEMM now "
              f"{rows[-1]['gemm_tf_gflops']} (TF) / {rows[-1]['gemm_numpy_gflops']} (NumPy), "
              f"load {rows[-1]['load_avg']}",
              flush=True)
    rows = sorted([*rows, *kept.values()], key=lambda r: list(VARIANTS).index(r["name"]))
    header = (f"{cpu_model()}, {os.cpu_count()} cores, TensorFlow float32, {time.strftime('%Y-%m-%d')}; last command "
              f"({(time.time() - started) / 60:.1f} min): python benchmarks/train_throughput.py "
              f"{' '.join(sys.argv[1:])}".rstrip() + (f"; kept from earlier runs: {', '.join(kept)}" if kept else ""))
    text = header + "\n" + markdown(rows)
    print(text)
    (out / "train_throughput.md").write_text(text)
    (out / "train_throughput.json").write_text(json.dumps(dict(header=header, rows=rows), indent=2))


if __name__ == "__main__":
    main()
