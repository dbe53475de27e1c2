"""Time to quality: decode rate on fresh codes vs wall time of stage-1 training, as notebook 06 trains.

Stage 1 exactly as notebook 06 runs it: the profile's generator, ``compile(Adam(config.learning_rate,
use_ema=True), loss="mae")`` and ``fit`` on ``make_dataset`` (random aligned LR crops of ``config.crop_size``), with
``TimeBudget`` decaying the learning rate along a cosine over the last checkpoint's minutes. At each
checkpoint (training wall time, tracing included, evaluation excluded) the live weights are scored with
zxing on ``--codes`` fresh codes (``eval_seed``) of each degradation, clean and realistic, next to
bicubic on the same codes. CPU minutes of the process (all threads) and the load average are recorded
too: wall time shrinks when other jobs share the cores, CPU time does not. Writes
``time_to_quality.csv``/``.json``/``.png`` to ``--out``.

    nohup python benchmarks/time_to_quality.py > benchmarks/results/time_to_quality.log 2>&1 &
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from machine import cpu_model  # benchmarks/machine.py

from qrsr_helpers.config import get_config
from qrsr_helpers.data.pairs import Pairs, generate_pairs, load_or_generate
from qrsr_helpers.decode import decode_matches

KINDS = ("clean", "realistic")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[0.25, 0.5, 1, 1.5, 2, 2.75],
                        help="checkpoints in minutes of training wall time; the budget, and the end, is the last")
    parser.add_argument("--codes", type=int, default=500, help="fresh codes per degradation to decode")
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


def make_checkpoint_callback(generator, held_out: dict[str, Pairs], minutes: list[float], batch_size: int,
                             rows: list[dict], budget):
    """A callback scoring the generator when training wall time crosses each checkpoint; the time spent
    scoring is taken off both clocks and off ``budget`` (the ``TimeBudget``, so its cosine runs over
    training time alone). Stops training after the last checkpoint."""
    import keras

    class Checkpoints(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.pending, self.steps = list(minutes), 0
            self.start, self.paused = time.monotonic(), 0.0
            self.cpu_start, self.cpu_paused = time.process_time(), 0.0

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1
            trained = time.monotonic() - self.start - self.paused
            if trained < self.pending[0] * 60:
                return
            t0, cpu0 = time.monotonic(), time.process_time()
            rates = {kind: round(zxing_rate(generator, pairs), 4) for kind, pairs in held_out.items()}
            rows.append(dict(minutes=round(trained / 60, 2), cpu_minutes=round((cpu0 - self.cpu_start - self.cpu_paused)
                                                                                / 60, 2),
                             load_avg=round(os.getloadavg()[0], 1), steps=self.steps, images=self.steps * batch_size,
                             loss=round(float(logs["loss"]), 5), **{f"zxing_{k}": v for k, v in rates.items()}))
            print(f"[time_to_quality] {rows[-1]}", flush=True)
            self.pending.pop(0)
            self.paused += time.monotonic() - t0
            budget.start += time.monotonic() - t0
            self.cpu_paused += time.process_time() - cpu0
            if not self.pending:
                self.model.stop_training = True

    return Checkpoints()


def plot(rows: list[dict], bicubic: dict[str, float], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    minutes = [r["minutes"] for r in rows]
    for kind, colour in zip(KINDS, ("C0", "C1")):
        ax.plot(minutes, [r[f"zxing_{kind}"] for r in rows], "o-", color=colour, label=f"stage 1, {kind}")
        ax.axhline(bicubic[kind], color=colour, linestyle=":", label=f"bicubic, {kind} ({bicubic[kind]:.1%})")
    ax.set_xlabel("training wall time (minutes)")
    ax.set_ylabel("zxing decode rate (fresh codes)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)




def main() -> None:
    args = parse_args()
    config = get_config(args.profile)
    t0 = time.time()
    train = load_or_generate(config, "train")
    held_out = {kind: generate_pairs(args.codes, config.eval_seed, kind) for kind in KINDS}
    print(f"[time_to_quality] {len(train)} train pairs, {args.codes} fresh codes per degradation in "
          f"{time.time() - t0:.0f} s", flush=True)

    import keras

    from qrsr_helpers.data.pipeline import make_dataset
    from qrsr_helpers.evaluate import interpolation_upscaler
    from qrsr_helpers.models.registry import generator_from_config
    from qrsr_helpers.training import TimeBudget

    keras.utils.set_random_seed(config.data_seed)
    bicubic = {kind: float(decode_matches(interpolation_upscaler("bicubic")(p.lr), p.payloads, "zxing").mean())
               for kind, p in held_out.items()}
    generator = generator_from_config(config)  # notebook 06's stage 1, cell for cell
    optimizer = keras.optimizers.Adam(config.learning_rate, use_ema=True, ema_momentum=0.99)
    generator.compile(optimizer=optimizer, loss="mae", jit_compile=config.jit_compile)
    rows: list[dict] = []
    budget = TimeBudget(args.minutes[-1] + 0.05)  # a little past the last checkpoint, which ends the run
    callback = make_checkpoint_callback(generator, held_out, args.minutes, config.batch_size, rows, budget)
    generator.fit(make_dataset(train, config, training=True), epochs=1_000_000, steps_per_epoch=config.steps_per_epoch,
                  verbose=0, callbacks=[budget, callback])

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    header = list(rows[0])
    (out / "time_to_quality.csv").write_text(
        "\n".join([",".join(header)] + [",".join(str(r[k]) for k in header) for r in rows]) + "\n")
    first = {kind: next((r["minutes"] for r in rows if r[f"zxing_{kind}"] > bicubic[kind]), None) for kind in KINDS}
    info = dict(profile=config.profile, model=f"{config.n_res_blocks}x{config.filters} {config.upsampling}",
                crop_size=config.crop_size, batch_size=config.batch_size, learning_rate=config.learning_rate,
                train_mix=config.train_mix, jit_compile=config.jit_compile, train_pairs=len(train),
                codes_per_degradation=args.codes, bicubic_zxing=bicubic, first_minutes_above_bicubic=first,
                checkpoints=rows, cpu=cpu_model(), cpus=os.cpu_count(), date=time.strftime("%Y-%m-%d"),
                command="python benchmarks/time_to_quality.py --minutes " + " ".join(f"{m:g}" for m in args.minutes))
    (out / "time_to_quality.json").write_text(json.dumps(info, indent=2))
    plot(rows, bicubic, out / "time_to_quality.png",
         f"{config.profile} profile stage 1, {info['model']}, {config.crop_size}-px crops, batch {config.batch_size}; "
         f"{info['cpu']}, {os.cpu_count()} cores")
    print(f"\n{info['cpu']}, {os.cpu_count()} cores, {info['date']}; {info['command']}\n")
    print("| wall minutes | CPU minutes | load avg | steps | images | L1 | zxing clean | zxing realistic |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['minutes']} | {r['cpu_minutes']} | {r['load_avg']} | {r['steps']} | {r['images']} | {r['loss']} "
              f"| {r['zxing_clean']:.1%} | {r['zxing_realistic']:.1%} |")
    print(f"| bicubic | | | | | | {bicubic['clean']:.1%} | {bicubic['realistic']:.1%} |")
    print(f"first checkpoint above bicubic: clean {first['clean']} min, realistic {first['realistic']} min "
          f"({args.codes} codes each, zxing)")


if __name__ == "__main__":
    main()
