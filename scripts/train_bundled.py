"""Train the bundled generator (stage 1, SRResNet with L1) on synthetic codes with the realistic
degradation mix, within a wall-clock budget, then measure its decode rate on held-out codes.

Backend-agnostic: runs with TensorFlow here, or with ``KERAS_BACKEND=jax`` on a GPU machine that
has no TensorFlow. Several generator sizes can share one data set (``--model BLOCKSxFILTERS:MINUTES``):

    python scripts/train_bundled.py --profile cpu --pairs 20000 --model 6x32:60 --out runs/bundled
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import time
from pathlib import Path

from qrsr_helpers.config import PIXEL_LOSSES, get_config
from qrsr_helpers.data.pairs import Pairs, generate_pairs
from qrsr_helpers.decode import decode_matches

DENSE_MODULE_PX = (0.7, 1.2)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--model", action="append", required=True, metavar="BLOCKSxFILTERS:MINUTES",
                        help="generator size and its training budget, e.g. 6x32:30 (repeatable)")
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--hard-pairs", type=int, default=0,
                        help="extra pairs of versions 3-4 only (realistic and wild): the codes that rarely decode")
    parser.add_argument("--dense-pairs", type=int, default=0,
                        help=f"extra shrunk-style pairs at {DENSE_MODULE_PX[0]}-{DENSE_MODULE_PX[1]} LR px per module: "
                             "versions 4-7 with a 32-px symbol, where reads of real photos stop")
    parser.add_argument("--pixel-loss", choices=PIXEL_LOSSES, help="default: the profile's (l1)")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--steps-per-epoch", type=int, default=200)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--mixed-precision", default=None, help="e.g. mixed_bfloat16 on a GPU")
    parser.add_argument("--init", help="start from these generator weights (continue a run)")
    parser.add_argument("--data-seed", type=int, help="another seed than the profile's gives fresh codes")
    parser.add_argument("--train-mix", type=parse_mix, metavar="STYLE:WEIGHT,...",
                        help="training styles and weights, e.g. photo:0.45,realistic:0.3,wild:0.1,clean:0.15 "
                             "(default: the profile's)")
    parser.add_argument("--eval-codes", type=int, default=400)
    parser.add_argument("--out", required=True, help="one sub-folder per model: weights, run.json, history")
    return parser.parse_args()


def parse_mix(text: str) -> tuple[tuple[str, float], ...]:
    """``photo:0.45,clean:0.15`` -> (("photo", 0.45), ("clean", 0.15)); the config checks the style names."""
    try:
        return tuple((name, float(weight)) for name, weight in (item.split(":") for item in text.split(",")))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not STYLE:WEIGHT[,STYLE:WEIGHT...]") from None


def make_data(args: argparse.Namespace):
    """Training pairs (the config's train_mix) and held-out evaluation pairs (eval_seed).
    Keras is not imported before this returns: the data workers are spawned and re-import this module."""
    config = get_config(args.profile, **data_overrides(args))
    common = dict(hr_size=config.hr_size, scale=config.scale, channels=config.channels,
                  max_version=config.max_version, quiet_zone=config.quiet_zone)
    t0 = time.time()
    train = generate_pairs(args.pairs, config.data_seed, config.train_mix, **common)
    if args.hard_pairs:
        hard = generate_pairs(args.hard_pairs, config.data_seed + 1, (("realistic", 0.6), ("wild", 0.4)),
                              min_version=3, **common)
        train = Pairs.concatenate([train, hard])
    if args.dense_pairs:
        dense = generate_pairs(args.dense_pairs, config.data_seed + 2, "shrunk", module_px=DENSE_MODULE_PX, **common)
        train = Pairs.concatenate([train, dense])
    # not "photo" or "shrunk": in a 128-px pair their codes are often cut by the frame, so they read ~0 % either way
    evaluation = {kind: generate_pairs(args.eval_codes, config.eval_seed, kind, **common)
                  for kind in ("realistic", "clean")}
    print(f"data: {len(train)} training pairs in {time.time() - t0:.0f} s", flush=True)
    return train, evaluation


def data_overrides(args: argparse.Namespace) -> dict:
    overrides = dict(data_seed=args.data_seed, train_mix=args.train_mix)
    return {k: v for k, v in overrides.items() if v is not None}


def train_one(spec: str, train, evaluation, args: argparse.Namespace) -> dict:
    import keras

    from qrsr_helpers.data.arrays import PairBatches
    from qrsr_helpers.models.registry import generator_from_config, write_run_info
    from qrsr_helpers.training import GeneratorCheckpoint, TimeBudget, pretrain

    size, minutes = spec.split(":")
    blocks, filters = (int(v) for v in size.split("x"))
    overrides = dict(n_res_blocks=blocks, filters=filters, batch_size=args.batch_size, learning_rate=args.learning_rate,
                     pixel_loss=args.pixel_loss)
    config = get_config(args.profile, **data_overrides(args), **{k: v for k, v in overrides.items() if v is not None})
    if args.mixed_precision:
        keras.mixed_precision.set_global_policy(args.mixed_precision)
    work = Path("runs") / "train_bundled" / size  # checkpoints and backups stay here; results go to --out
    shutil.rmtree(work, ignore_errors=True)
    out = Path(args.out) / size
    out.mkdir(parents=True, exist_ok=True)
    generator = generator_from_config(config)
    print(f"generator {size}: {generator.count_params():,} params, backend {keras.backend.backend()}", flush=True)
    init_rates = None
    if args.init:
        generator.load_weights(args.init)
        init_rates = decode_rates(generator, evaluation)
        print(f"init {args.init}: {init_rates}", flush=True)
    batches = PairBatches(train, config.batch_size, seed=config.data_seed, steps_per_epoch=args.steps_per_epoch,
                          workers=4, use_multiprocessing=False, max_queue_size=16)
    t0 = time.time()
    latest = GeneratorCheckpoint(generator, out, every=5, epoch_files=False)  # what a cut-off lease still returns
    history = pretrain(generator, batches, config, work, epochs=100_000, callbacks=[TimeBudget(float(minutes)), latest])
    seconds = time.time() - t0
    steps = int(generator.optimizer.iterations)  # not epochs x steps: the budget stops mid-epoch
    rates = decode_rates(generator, evaluation)
    info = dict(
        architecture=dict(n_res_blocks=blocks, filters=filters, upsampling=config.upsampling, channels=config.channels,
                          params=generator.count_params()),
        training=dict(profile=config.profile, stage="pretrain", pixel_loss=config.pixel_loss,
                      batch_size=config.batch_size,
                      learning_rate=config.learning_rate, schedule="cosine over wall time", ema_decay=config.ema_decay,
                      steps=steps, images_seen=steps * config.batch_size, wall_seconds=round(seconds),
                      images_per_second=round(steps * config.batch_size / seconds, 1),
                      final_loss=round(float(history.history["loss"][-1]), 5), backend=keras.backend.backend(),
                      hard_pairs=args.hard_pairs, dense_pairs=args.dense_pairs,
                      mixed_precision=args.mixed_precision, machine=platform.node()),
        init=args.init,
        data=dict(pairs=len(train), train_mix=config.train_mix, data_seed=config.data_seed, hr_size=config.hr_size,
                  lr_size=config.lr_size, max_version=config.max_version, quiet_zone=config.quiet_zone),
        quick_eval=dict(codes=args.eval_codes, eval_seed=config.eval_seed, decode_rates=rates,
                        init_decode_rates=init_rates),
    )
    weights_only = generator_from_config(config)  # no optimizer attached: the file holds weights alone
    weights_only.set_weights(generator.get_weights())
    weights_only.save_weights(out / "generator.weights.h5")
    shutil.copy(work / "history_pretrain.csv", out / "history.csv")
    write_run_info(out, **info)
    print(json.dumps(info, default=str), flush=True)
    return info


def decode_rates(generator, evaluation) -> dict:
    from qrsr_helpers.inference import super_resolve

    rates = {}
    for kind, pairs in evaluation.items():
        sr = super_resolve(generator, pairs.lr)
        rates[kind] = {d: round(float(decode_matches(sr, pairs.payloads, d).mean()), 4) for d in ("zxing", "opencv")}
    return rates


if __name__ == "__main__":
    arguments = parse_args()
    data = make_data(arguments)
    for model_spec in arguments.model:
        train_one(model_spec, *data, arguments)
