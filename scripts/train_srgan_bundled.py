"""Train the bundled SRGAN (stage 2) from the shipped SRResNet, and its control, in lockstep.

Every step draws one batch of HR crops (``--crop`` LR pixels, x4 in HR: 24 -> 96 px, the paper's HR
crop) and updates two generators that start from the same weights with the same optimizer and EMA:

- ``srgan``: ``srgan.srgan_step`` (the lesson's text) with ``--adv-weight``, against a discriminator;
- ``control``: the same content loss alone. With ``adv_weight = 0`` the adversarial term multiplies
  zero, so the generator's gradient is exactly this one; the discriminator it would train is never
  read, so the control does not build it.

So the two differ in one thing, see the same codes in the same order, and share the machine's load.
The run is resumable at every instant: the state (both generators, D, all optimizer variables
including the EMAs, the step) is written atomically every ``--save-every`` steps and a re-run with
the same arguments continues from it; batch ``k`` depends only on ``(--data-seed, k)``.

Runs on TensorFlow (bf16 on a CPU that has it) or on JAX (``KERAS_BACKEND=jax``: a GPU machine without
TensorFlow); ``srgan.gan_step_function`` and ``control_step_function`` pick the step for the backend.

    python scripts/train_srgan_bundled.py --steps 2000 --out runs/srgan_bundled
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from qrsr_helpers.config import get_config
from qrsr_helpers.data.pairs import Pairs, generate_pairs


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--crop", type=int, default=24, help="LR crop side (HR: x4)")
    parser.add_argument("--adv-weight", type=float, default=1e-3)
    parser.add_argument("--learning-rate", type=float, default=1e-4, help="both networks; cosine to 2 %% over --steps")
    parser.add_argument("--pixel-loss", default="l1+binary", help="the content loss (no ImageNet VGG19 offline)")
    parser.add_argument("--disc-filters", type=int, default=64)
    parser.add_argument("--pairs", type=int, default=12_000)
    parser.add_argument("--hard-pairs", type=int, default=4_000)
    parser.add_argument("--data-seed", type=int, default=2051, help="fresh codes: not the SRResNet's seeds")
    parser.add_argument("--precision", default="auto", choices=("auto", "float32", "mixed_bfloat16"),
                        help="auto: mixed_bfloat16 where the CPU has bf16 instructions")
    parser.add_argument("--xla", action="store_true")
    parser.add_argument("--init", default="srresnet", help="bundled name or .weights.h5")
    parser.add_argument("--save-every", type=int, default=100)
    parser.add_argument("--snapshot-every", type=int, default=500, help="EMA weights of both kept at these steps")
    parser.add_argument("--bn-crops", type=int, default=512, help="training crops BatchNorm statistics come from")
    parser.add_argument("--finish", action="store_true",
                        help="only write the final weights and run.json from the saved state (a run cut short)")
    parser.add_argument("--benchmark", type=int, default=0, help="time this many steps and exit (no state)")
    parser.add_argument("--out", default="runs/srgan_bundled")
    return parser.parse_args()


def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def load_pairs(args: argparse.Namespace, out: Path) -> Pairs:
    """The training codes: the SRResNet's mix plus version-3/4 "hard pairs", cached in the run folder."""
    cache = out / "pairs.npz"
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as data:
            return Pairs(data["hr"], data["lr"], list(data["payloads"]), data["versions"], list(data["errors"]),
                         list(data["styles"]))
    config = get_config("gpu")
    common = dict(hr_size=config.hr_size, scale=config.scale, channels=config.channels,
                  max_version=config.max_version, quiet_zone=config.quiet_zone)
    pairs = Pairs.concatenate([
        generate_pairs(args.pairs, args.data_seed, config.train_mix, **common),
        generate_pairs(args.hard_pairs, args.data_seed + 1, (("realistic", 0.6), ("wild", 0.4)), min_version=3,
                       **common)])
    tmp = out / "pairs.tmp.npz"
    np.savez(tmp, hr=pairs.hr, lr=pairs.lr, payloads=np.array(pairs.payloads), versions=pairs.versions,
             errors=np.array(pairs.errors), styles=np.array(pairs.styles))
    os.replace(tmp, cache)
    return pairs


def batch(pairs: Pairs, seed: int, step: int, size: int, crop: int, scale: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Batch ``step``: random codes, each cut to a random aligned LR crop and its x4 HR crop."""
    rng = np.random.default_rng([seed, step])
    index = rng.integers(0, len(pairs), size)
    lr_side = pairs.lr.shape[1]
    y, x = rng.integers(0, lr_side - crop + 1, (2, size))
    lr = np.stack([pairs.lr[i, a:a + crop, b:b + crop] for i, a, b in zip(index, y, x)])
    hr = np.stack([pairs.hr[i, a * scale:(a + crop) * scale, b * scale:(b + crop) * scale]
                   for i, a, b in zip(index, y, x)])
    return lr.astype("float32") / 255.0, hr.astype("float32") / 255.0


def wall_seconds(history: Path) -> float:
    """Training time over every session of a resumed run: history.csv's clock restarts at each resume."""
    with history.open() as f:
        seconds = [float(row["seconds"]) for row in csv.DictReader(f)]
    ends = [a for a, b in zip(seconds, seconds[1:] + [0.0]) if b < a]
    return sum(ends)


def main() -> None:
    args = parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pairs = load_pairs(args, out)

    import keras
    from keras import ops

    from qrsr_helpers.losses import pixel_loss
    from qrsr_helpers.models import build_discriminator
    from qrsr_helpers.models.registry import config_for_weights, generator_from_config, weights_path
    from qrsr_helpers.srgan import control_step_function, gan_step_function
    from qrsr_helpers.training import atomic_save_weights, ema_momentum, ema_weights, recalibrate_batchnorm

    precision = args.precision if args.precision != "auto" else ("mixed_bfloat16" if cpu_has_bf16() else "float32")
    keras.mixed_precision.set_global_policy(precision)
    init = weights_path(args.init)
    config = config_for_weights(init)
    generator, control = generator_from_config(config, "generator"), generator_from_config(config, "control")
    generator.load_weights(init)
    control.set_weights(generator.get_weights())
    discriminator = build_discriminator((args.crop * 4, args.crop * 4, 3), filters=args.disc_filters)

    def schedule():
        return keras.optimizers.schedules.CosineDecay(args.learning_rate, args.steps, alpha=0.02)

    momentum = ema_momentum(config, args.steps)
    g_opt = keras.optimizers.Adam(schedule(), beta_1=0.9, use_ema=True, ema_momentum=momentum)
    c_opt = keras.optimizers.Adam(schedule(), beta_1=0.9, use_ema=True, ema_momentum=momentum)
    d_opt = keras.optimizers.Adam(schedule(), beta_1=0.9)
    loss_fn = pixel_loss(args.pixel_loss)

    def content(hr, sr):
        return loss_fn(ops.cast(hr, "float32"), ops.cast(sr, "float32"))

    gan_step = gan_step_function(generator, discriminator, content, g_opt, d_opt, args.adv_weight, args.xla)
    control_step = control_step_function(control, content, c_opt, args.xla)

    if args.benchmark:
        for name, step in (("gan", gan_step), ("control", control_step)):
            step(*batch(pairs, args.data_seed, 0, args.batch_size, args.crop))
            t0 = time.perf_counter()
            for k in range(args.benchmark):
                step(*batch(pairs, args.data_seed, k, args.batch_size, args.crop))
            seconds = time.perf_counter() - t0
            print(f"{name}: {args.benchmark / seconds:.2f} steps/s ({precision}, xla={args.xla}, "
                  f"crop {args.crop}, batch {args.batch_size}, D filters {args.disc_filters})", flush=True)
        return

    state = out / "state"
    models = {"generator": generator, "control": control, "discriminator": discriminator}
    optimizers = {"g_opt": g_opt, "c_opt": c_opt, "d_opt": d_opt}
    start = 0
    if not (state / "step.json").is_file() and (out / "state.old" / "step.json").is_file():
        (out / "state.old").rename(state)  # killed between the two renames of save_state
    if (state / "step.json").is_file():
        start = json.loads((state / "step.json").read_text())["step"]
        for name, model in models.items():
            model.load_weights(state / f"{name}.weights.h5")
        for name, opt in optimizers.items():
            with np.load(state / f"{name}.npz") as saved:
                for i, variable in enumerate(opt.variables):
                    variable.assign(saved[f"v{i}"])
        print(f"resumed at step {start} from {state}", flush=True)

    def save_state(step: int) -> None:
        tmp = out / "state.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for name, model in models.items():
            model.save_weights(tmp / f"{name}.weights.h5")
        for name, opt in optimizers.items():
            np.savez(tmp / f"{name}.npz", **{f"v{i}": ops.convert_to_numpy(v) for i, v in enumerate(opt.variables)})
        (tmp / "step.json").write_text(json.dumps({"step": step}))
        old = out / "state.old"
        shutil.rmtree(old, ignore_errors=True)
        if state.exists():
            state.rename(old)
        tmp.rename(state)
        shutil.rmtree(old, ignore_errors=True)

    bn_batches = [batch(pairs, args.data_seed + 7, k, 64, args.crop)[0] for k in range(max(1, args.bn_crops // 64))]

    def save_ema(model, opt, path: Path) -> None:
        """The EMA weights (what is evaluated and shipped) with BatchNorm statistics of --bn-crops training crops,
        the same crops for both generators; the training weights are left untouched."""
        bare = generator_from_config(config, "ema")
        bare.set_weights(ema_weights(model, opt))
        recalibrate_batchnorm(bare, bn_batches)
        atomic_save_weights(bare, path)

    log_path = out / "history.csv"
    fields = ["step", "seconds", "g_loss", "d_loss", "content_loss", "adv_loss", "d_real_accuracy",
              "d_fake_accuracy", "control_content_loss"]
    if start == 0:
        with log_path.open("w", newline="") as f:
            csv.writer(f).writerow(fields)
    t0, sums, n = time.monotonic(), {}, 0
    for step in range(start, start if args.finish else args.steps):
        lr, hr = batch(pairs, args.data_seed, step, args.batch_size, args.crop)
        values = {k: float(v) for k, v in gan_step(lr, hr).items()}
        values["control_content_loss"] = float(control_step(lr, hr)["content_loss"])
        if not all(np.isfinite(list(values.values()))):
            raise SystemExit(f"step {step + 1}: non-finite loss {values}; state of step {start} kept in {state}")
        for k, v in values.items():
            sums[k] = sums.get(k, 0.0) + v
        n += 1
        done = step + 1
        if done % 10 == 0 or done == args.steps:
            row = {k: round(v / n, 5) for k, v in sums.items()}
            with log_path.open("a", newline="") as f:
                csv.writer(f).writerow([done, round(time.monotonic() - t0, 1)] + [row[k] for k in fields[2:]])
            print(f"step {done}/{args.steps} {time.monotonic() - t0:.0f}s " +
                  " ".join(f"{k}={v:.4f}" for k, v in row.items()), flush=True)
            sums, n = {}, 0
        if done % args.snapshot_every == 0 or done == args.steps:
            snapshots = out / "snapshots"
            snapshots.mkdir(exist_ok=True)
            save_ema(generator, g_opt, snapshots / f"srgan_step{done:05d}.weights.h5")
            save_ema(control, c_opt, snapshots / f"control_step{done:05d}.weights.h5")
        if done % args.save_every == 0 or done == args.steps:
            save_state(done)

    done_steps = start if args.finish else args.steps
    save_ema(generator, g_opt, out / "srgan.weights.h5")
    save_ema(control, c_opt, out / "control.weights.h5")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    info = dict(
        architecture=dict(n_res_blocks=config.n_res_blocks, filters=config.filters, upsampling=config.upsampling,
                          channels=config.channels, params=generator.count_params()),
        training=dict(
            stage="gan", init=f"{init.name} (the shipped SRResNet, commit {commit})",
            command=" ".join(["python scripts/train_srgan_bundled.py"] + [a for a in sys.argv[1:] if a != "--finish"]),
            content_loss=f"pixel ({args.pixel_loss}; no ImageNet VGG19 offline)", adv_weight=args.adv_weight,
            learning_rate=args.learning_rate, schedule=f"cosine over {args.steps} steps to 2 %",
            optimizer="Adam(beta_1=0.9) for G and D; G evaluated and shipped as its EMA",
            batchnorm=f"moving statistics from {args.bn_crops} training crops after training (recalibrate_batchnorm)",
            ema_momentum=momentum, batch_size=args.batch_size, hr_crop=args.crop * 4, lr_crop=args.crop,
            discriminator=f"SRGAN discriminator, {args.disc_filters} base filters, on {args.crop * 4}-px HR crops",
            steps=done_steps, images_seen=done_steps * args.batch_size, precision=precision, xla=args.xla,
            wall_seconds=round(wall_seconds(log_path)), backend=keras.backend.backend(), cpu=cpu, cores=os.cpu_count(),
            control="the same run with adv_weight = 0: same init, batches, optimizer, schedule and EMA, in lockstep",
        ),
        data=dict(pairs=len(pairs), train_mix=list(get_config("gpu").train_mix), hard_pairs=args.hard_pairs,
                  data_seed=args.data_seed),
    )
    (out / "run.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info, indent=2), flush=True)


if __name__ == "__main__":
    main()
