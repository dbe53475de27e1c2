"""``qrsr train``: the same calls as notebook 06, with the run folder printed up front.

A run folder is resumable at every instant: ``run.json`` (written first) records the architecture,
so every weights file in the folder loads in every command even while training runs; a finished
stage is recorded there and never redone when the command is re-run; an interrupted stage resumes
from its backup (see ``training.ResumableBackup``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import checked_weights

STAGES = {"pretrain": ("pretrain",), "gan": ("gan",), "both": ("pretrain", "gan")}


def run(args: argparse.Namespace) -> int:
    """``--init`` (``pretrained``, ``srresnet``, ``srgan`` or a ``.weights.h5``) starts from existing weights
    and takes their architecture; ``--minutes`` bounds each stage's wall time (cosine LR decay)."""
    from ..config import get_config
    from ..io import check_writable
    from ..models.registry import architecture

    init = checked_weights("--init", args.init) if args.init else None
    config = get_config(args.profile, **(architecture(init) if init else {}))
    out = Path(args.out) if args.out else config.run_dir
    check_writable(out)  # before minutes of work, not after

    import keras

    from ..data.pipeline import make_dataset
    from ..data.synth import load_or_generate
    from ..models.registry import generator_from_config, load_generator
    from ..training import (
        TimeBudget,
        architecture_info,
        build_srgan,
        distribution_strategy,
        mixed_precision_policy,
        pretrain,
        read_run_info,
        train_gan,
        write_run_info,
    )

    def finished_stages() -> list[str]:
        return list(read_run_info(out).get("finished_stages", []))

    finished = [s for s in STAGES[args.stage] if s in finished_stages()]
    print(f"qrsr train: profile={config.profile} stage={args.stage} -> {out.resolve()}\n"
          f"  checkpoints: {out / 'checkpoints'}  history: {out}/history_*.csv  TensorBoard: {out / 'logs'}\n"
          f"  an interrupted run resumes from {out}/backup_* when re-run with the same arguments", flush=True)
    if finished:
        print(f"  already finished here, not redone: {', '.join(finished)}", flush=True)
    if finished == list(STAGES[args.stage]):
        print(f"qrsr train: nothing left to do; generator weights in {out}", flush=True)
        return 0
    keras.mixed_precision.set_global_policy(mixed_precision_policy(config))
    write_run_info(out, profile=config.profile, stage=args.stage, init=str(init) if init else None,
                   architecture=architecture_info(config))
    pairs = load_or_generate(config, "train")

    def budget(profile_minutes: float | None) -> list:
        """--minutes; else the profile's budget, unless --epochs asked for a number of epochs."""
        minutes = args.minutes or (None if args.epochs else profile_minutes)
        return [TimeBudget(minutes)] if minutes else []

    with distribution_strategy().scope():
        generator = generator_from_config(config)
        if "pretrain" in finished:
            generator.set_weights(load_generator(out / "generator_pretrain.weights.h5", "keras").get_weights())
        elif init:
            generator.set_weights(load_generator(init, "keras").get_weights())
        for stage in STAGES[args.stage]:
            if stage in finished:
                continue
            if stage == "pretrain":  # on crops (config.crop_size); the discriminator needs whole images
                pretrain(generator, make_dataset(pairs, config, training=True), config, out, epochs=args.epochs,
                         callbacks=budget(config.pretrain_minutes))
            else:
                whole = make_dataset(pairs, config.replace(crop_size=None), training=True)
                train_gan(build_srgan(config, generator), whole, config, out, epochs=args.epochs,
                          callbacks=budget(config.gan_minutes))
            finished.append(stage)
            write_run_info(out, finished_stages=sorted(set(finished_stages() + [stage])))
    print(f"qrsr train: done; generator weights in {out}", flush=True)
    return 0
