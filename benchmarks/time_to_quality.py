"""Time to quality: decode rate on held-out realistic codes vs wall time of cpu-profile training.

Stage 1 (SRResNet pre-training) exactly as the cpu profile runs it: ``training.pretrain`` on
``PairBatches`` of ``load_or_generate(config, "train")``, constant learning rate, Adam + EMA. At
each checkpoint (wall-clock minutes of training, XLA compilation included, evaluation excluded)
the generator is scored on ``--codes`` held-out realistic codes (``eval_seed``) with zxing, twice:
the live weights and the optimizer's EMA weights (what ``pretrain`` saves at the end). Writes
``time_to_quality.csv``/``.json``/``.png`` to ``--out``.

    nohup python benchmarks/time_to_quality.py --minutes 2 5 10 20 > benchmarks/results/time_to_quality.log 2>&1 &
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from qrsr_helpers.config import get_config
from qrsr_helpers.data.synth import Pairs, load_or_generate
from qrsr_helpers.decode import decode_matches


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[2, 5, 10, 30, 60],
                        help="checkpoints in minutes of training wall time; training stops at the last")
    parser.add_argument("--codes", type=int, default=500, help="held-out realistic codes to decode")
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    if any(m <= 0 for m in args.minutes) or args.codes < 1:
        parser.error(f"--minutes {args.minutes} must be positive and --codes {args.codes} >= 1")
    args.minutes = sorted(args.minutes)
    return args


def zxing_rate(generator, pairs: Pairs) -> float:
    """Share of ``pairs`` whose super-resolved image zxing reads back exactly."""
    from qrsr_helpers.inference import super_resolve

    return float(decode_matches(super_resolve(generator, pairs.lr), pairs.payloads, "zxing").mean())


def make_checkpoint_callback(generator, held_out: Pairs, minutes: list[float], batch_size: int, rows: list[dict]):
    """A callback scoring the generator when training wall time crosses each checkpoint; the time
    spent scoring is taken off the clock. Also records the process's CPU time (all threads), which,
    unlike wall time, does not shrink when other jobs share the cores, and the load average.
    Stops training after the last checkpoint."""
    import keras

    class Checkpoints(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start, self.paused, self.steps, self.pending = time.monotonic(), 0.0, 0, list(minutes)
            self.cpu_start, self.cpu_paused = time.process_time(), 0.0

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1
            trained = time.monotonic() - self.start - self.paused
            if trained < self.pending[0] * 60:
                return
            t0, cpu0 = time.monotonic(), time.process_time()
            cpu_trained = cpu0 - self.cpu_start - self.cpu_paused
            live = generator.get_weights()
            live_rate = zxing_rate(generator, held_out)
            self.model.optimizer.finalize_variable_values(generator.trainable_variables)  # EMA in
            ema_rate = zxing_rate(generator, held_out)
            generator.set_weights(live)  # and out again: training goes on with the live weights
            rows.append(dict(minutes=round(trained / 60, 2), cpu_minutes=round(cpu_trained / 60, 2),
                             load_avg=round(os.getloadavg()[0], 1), steps=self.steps, images=self.steps * batch_size,
                             loss=round(float(logs["loss"]), 5), zxing_live=round(live_rate, 4),
                             zxing_ema=round(ema_rate, 4)))
            print(f"[time_to_quality] {rows[-1]}", flush=True)
            self.pending.pop(0)
            self.paused += time.monotonic() - t0
            self.cpu_paused += time.process_time() - cpu0
            if not self.pending:
                self.model.stop_training = True

    return Checkpoints()


def plot(rows: list[dict], baselines: dict[str, float], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    minutes = [r["minutes"] for r in rows]
    ax.plot(minutes, [r["zxing_live"] for r in rows], "o-", label="generator (live weights)")
    ax.plot(minutes, [r["zxing_ema"] for r in rows], "s--", label="generator (EMA weights, what pretrain saves)")
    for (name, rate), style in zip(baselines.items(), (":", "-.")):
        ax.axhline(rate, color="grey", linestyle=style, label=f"{name} ({rate:.1%})")
    ax.set_xscale("log")
    ax.set_xticks(minutes, [f"{m:g}" for m in minutes])
    ax.minorticks_off()
    ax.set_xlabel("training wall time (minutes, log scale)")
    ax.set_ylabel("zxing decode rate (held-out realistic)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    args = parse_args()
    config = get_config(args.profile)
    t0 = time.time()
    train = load_or_generate(config, "train")
    held_out = load_or_generate(config, "eval", n=args.codes, degradation="realistic")
    data_seconds = time.time() - t0
    print(f"[time_to_quality] {len(train)} train / {len(held_out)} held-out pairs in {data_seconds:.0f} s", flush=True)

    import keras

    from qrsr_helpers.data.arrays import PairBatches
    from qrsr_helpers.evaluate import interpolation_upscaler
    from qrsr_helpers.models.registry import generator_from_config
    from qrsr_helpers.training import pretrain

    keras.utils.set_random_seed(config.data_seed)
    generator = generator_from_config(config)
    batches = PairBatches(train, config.batch_size, seed=config.data_seed, steps_per_epoch=config.steps_per_epoch)
    bicubic = float(decode_matches(interpolation_upscaler("bicubic")(held_out.lr), held_out.payloads, "zxing").mean())
    ceiling = float(decode_matches(held_out.hr, held_out.payloads, "zxing").mean())
    rows: list[dict] = []
    work = Path(tempfile.mkdtemp(prefix="qrsr-ttq-"))  # a fresh run: no BackupAndRestore resume
    try:
        callback = make_checkpoint_callback(generator, held_out, args.minutes, config.batch_size, rows)
        pretrain(generator, batches, config, work, epochs=1_000_000, callbacks=[callback])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    header = list(rows[0])
    (out / "time_to_quality.csv").write_text(
        "\n".join([",".join(header)] + [",".join(str(r[k]) for k in header) for r in rows]) + "\n")
    info = dict(profile=config.profile, model=f"{config.n_res_blocks}x{config.filters} {config.upsampling}",
                batch_size=config.batch_size, learning_rate=config.learning_rate, ema_decay=config.ema_decay,
                jit_compile=config.jit_compile, train_pairs=len(train), held_out_codes=len(held_out),
                bicubic_zxing=round(bicubic, 4), hr_zxing=round(ceiling, 4), checkpoints=rows,
                machine=platform.processor() or platform.machine(), cpus=os.cpu_count(),
                date=time.strftime("%Y-%m-%d"))
    (out / "time_to_quality.json").write_text(json.dumps(info, indent=2))
    plot(rows, {"bicubic": bicubic, "HR ceiling": ceiling}, out / "time_to_quality.png",
         f"{config.profile} profile, {info['model']}, batch {config.batch_size}, {os.cpu_count()} CPU cores")
    print("\n| wall minutes | CPU minutes | load avg | steps | images | loss | zxing live | zxing EMA |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['minutes']} | {r['cpu_minutes']} | {r['load_avg']} | {r['steps']} | {r['images']} | {r['loss']} "
              f"| {r['zxing_live']:.1%} | {r['zxing_ema']:.1%} |")
    print(f"bicubic {bicubic:.1%}, HR ceiling {ceiling:.1%} (zxing, {len(held_out)} realistic codes)")


if __name__ == "__main__":
    main()
