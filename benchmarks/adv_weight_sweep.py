"""The adversarial weight, measured (issue 19): one stage-1 generator, then one GAN run per ``adv_weight`` in
lockstep (the same batches, the same optimizers, EMA and discriminator start), each scored on the same fresh codes
and compared, paired, with the ``adv_weight = 0`` arm (the control).

The cpu profile's recipe, as notebook 06 runs it: the 6 x 32 generator trained on 16-px LR crops (stage 1, Adam
with an EMA over ~100 steps for ``--stage1-minutes``), then stage 2 on the same crops, D (32 filters) judging the
64-px HR crops, Adam at ``gan_learning_rate``, G's EMA, BatchNorm statistics from the same 512 training crops
for every arm. Writes OUT.json, OUT.md (with the CPU model and the command) and OUT.png. No asserts.

    python benchmarks/adv_weight_sweep.py --steps 600 --out benchmarks/results/adv_weight_sweep
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from common import module_contrast  # benchmarks/common.py
from machine import cpu_model  # benchmarks/machine.py


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adv-weight", type=float, nargs="+", default=[0.0, 1e-4, 1e-3, 1e-2])
    parser.add_argument("--steps", type=int, default=600, help="GAN steps of every arm")
    parser.add_argument("--stage1-minutes", type=float, default=2.75)
    parser.add_argument("--codes", type=int, default=500, help="fresh codes per degradation")
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--out", default="benchmarks/results/adv_weight_sweep")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if 0.0 not in args.adv_weight:
        raise SystemExit("--adv-weight must include 0 (the control every arm is compared with)")
    from qrsr_helpers.config import get_config
    from qrsr_helpers.data.pairs import generate_pairs, load_or_generate

    config = get_config(args.profile)
    train_pairs = load_or_generate(config, "train")
    eval_sets = {kind: generate_pairs(args.codes, config.eval_seed, kind) for kind in ("clean", "realistic")}

    import keras

    from qrsr_helpers.data.pipeline import make_dataset
    from qrsr_helpers.evaluate import paired_comparison, per_image_results, upscaler
    from qrsr_helpers.models import build_discriminator, generator_from_config
    from qrsr_helpers.srgan import control_step_function, gan_step_function
    from qrsr_helpers.training import (
        TimeBudget,
        gan_content_loss,
        gan_optimizers,
        recalibrate_batchnorm,
        training_inputs,
    )

    keras.utils.set_random_seed(config.data_seed)
    crops = make_dataset(train_pairs, config, training=True)
    stage1 = generator_from_config(config)  # stage 1 exactly as notebook 06 trains it
    stage1.compile(optimizer=keras.optimizers.Adam(config.learning_rate, use_ema=True, ema_momentum=0.99), loss="mae",
                   jit_compile=config.jit_compile)
    t0 = time.time()
    history = stage1.fit(crops, epochs=config.pretrain_epochs, steps_per_epoch=config.steps_per_epoch, verbose=0,
                         callbacks=[TimeBudget(args.stage1_minutes)])
    recalibrate_batchnorm(stage1, training_inputs(crops))
    stage1_steps = len(history.history["loss"]) * config.steps_per_epoch
    print(f"stage 1: {time.time() - t0:.0f} s, about {stage1_steps} steps", flush=True)
    start = stage1.get_weights()

    side = (config.crop_size or config.lr_size) * config.scale
    content_loss, said = gan_content_loss(config, fall_back=True)
    arms = {}
    for weight in args.adv_weight:
        generator = generator_from_config(config, name=f"g_{weight:g}")
        generator.set_weights(start)
        g_optimizer, d_optimizer = gan_optimizers(config, args.steps)
        if weight == 0:
            step = control_step_function(generator, content_loss, g_optimizer)
        else:
            keras.utils.set_random_seed(config.data_seed + 1)  # every arm's D starts from the same weights
            discriminator = build_discriminator((side, side, config.channels), filters=config.disc_filters)
            step = gan_step_function(generator, discriminator, content_loss, g_optimizer, d_optimizer, weight)
        arms[weight] = dict(generator=generator, optimizer=g_optimizer, step=step, logs=[])
    t0 = time.time()
    for k, (lr, hr) in enumerate(crops.take(args.steps), start=1):
        for arm in arms.values():
            arm["logs"].append({name: float(value) for name, value in arm["step"](lr, hr).items()})
        if k % 50 == 0:
            print(f"step {k}/{args.steps} {time.time() - t0:.0f} s " + " ".join(
                f"{w:g}:{arm['logs'][-1]['content_loss']:.4f}" for w, arm in arms.items()), flush=True)
    seconds = time.time() - t0
    bn_inputs = training_inputs(make_dataset(train_pairs, config.replace(batch_size=min(64, len(train_pairs))),
                                             training=True), 8)
    for arm in arms.values():
        arm["optimizer"].finalize_variable_values(arm["generator"].trainable_variables)  # evaluate the EMA
        recalibrate_batchnorm(arm["generator"], bn_inputs)

    names = {w: f"adv_weight {w:g}" for w in arms}
    upscalers = {"stage 1 (start)": upscaler(stage1),
                 **{names[w]: upscaler(arm["generator"]) for w, arm in arms.items()}}
    rows, paired = [], []
    for kind, pairs in eval_sets.items():
        results = per_image_results(pairs, upscalers, decoders=("zxing", "cascade"))
        control = results[results.upscaler == names[0.0]]
        for name, frame in results.groupby("upscaler", sort=False):
            sr = upscalers[name](pairs.lr)
            rows.append({"degradation": kind, "generator": name, "n": len(frame),
                         "zxing": round(float(frame.decoded_zxing.mean()), 4),
                         "cascade": round(float(frame.decoded_cascade.mean()), 4),
                         "misreads": int(frame.misread_cascade.sum() + frame.misread_zxing.sum()),
                         "psnr": round(float(frame.psnr.mean()), 2),
                         "contrast": round(float(np.nanmean(module_contrast(sr, pairs.hr))), 1)})
            paired.append({"degradation": kind, "generator": name, **paired_comparison(
                frame.decoded_cascade.to_numpy(), control.decoded_cascade.to_numpy())})
            print(json.dumps(rows[-1]), flush=True)
    last = {names[w]: {k: round(float(np.mean([log[k] for log in arm["logs"][-50:]])), 4) for k in arm["logs"][-1]}
            for w, arm in arms.items()}
    command = "python benchmarks/adv_weight_sweep.py " + " ".join(sys.argv[1:])
    result = {"cpu": cpu_model(), "command": command, "content_loss": said, "steps": args.steps,
              "stage1_steps": stage1_steps,
              "stage2_seconds": round(seconds), "codes": args.codes, "rows": rows, "paired_vs_control": paired,
              "last_50_steps": last}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out + ".json").write_text(json.dumps(result, indent=1))
    Path(args.out + ".md").write_text(markdown(result))
    plot(result, Path(args.out + ".png"))
    print(markdown(result))


def markdown(result: dict) -> str:
    lines = [f"{result['cpu']}; stage 1 about {result['stage1_steps']} steps; {result['steps']} GAN steps per arm in "
             f"lockstep ({result['stage2_seconds']} s); "
             f"content loss {result['content_loss']}; command: `{result['command']}`", "",
             "| codes | generator | zxing | cascade | cascade - control [95 % CI] | only this / only control | "
             "McNemar p | misreads | PSNR dB | module contrast |", "|---|---|---|---|---|---|---|---|---|---|"]
    for row, p in zip(result["rows"], result["paired_vs_control"]):
        lines.append(f"| {row['degradation']} ({row['n']}) | {row['generator']} | {row['zxing']:.1%} | "
                     f"**{row['cascade']:.1%}** | {p['difference']:+.1%} [{p['low']:+.1%}, {p['high']:+.1%}] | "
                     f"{p['only_a']} / {p['only_b']} | {p['mcnemar_p']:.3g} | {row['misreads']} | {row['psnr']:.2f} | "
                     f"{row['contrast']:.1f} |")
    return "\n".join(lines) + "\n"


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from qrsr_helpers.plots import paired_differences

    fig = paired_differences(result["paired_vs_control"], "generator", "adv_weight ",
                             f"Cascade decode rate minus the control's, {result['steps']} GAN steps")
    fig.savefig(path, dpi=72)
    plt.close(fig)


if __name__ == "__main__":
    main()
