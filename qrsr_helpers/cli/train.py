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


def check_gan_stage(args: argparse.Namespace, config, init, pretrained_here: bool) -> None:
    """Refuse, in one line, a GAN stage that cannot run as asked: no stage-1 generator to start from (an
    untrained G makes D's job trivial), a Keras backend other than TensorFlow (``SRGAN.fit`` is its
    ``tf.GradientTape`` step; on JAX use ``scripts/train_srgan_bundled.py``), or VGG19 weights that cannot be had
    for a VGG content loss (raises ``VGGWeightsUnavailable`` naming the fix)."""
    import keras

    from ..errors import InvalidArgument
    from ..models.vgg import vgg_weights_file

    if args.stage == "gan" and init is None and not pretrained_here:
        raise InvalidArgument("--stage gan starts from a stage-1 generator: add --init pretrained (or a "
                              ".weights.h5 of yours), or train both stages with --stage both")
    if keras.backend.backend() != "tensorflow":
        raise InvalidArgument(f"qrsr train --stage {args.stage} runs its GAN stage on the tensorflow Keras backend, "
                              f"not {keras.backend.backend()!r}: unset KERAS_BACKEND, or on JAX use "
                              "scripts/train_srgan_bundled.py")
    if config.content_loss in ("vgg", "both") and config.vgg_weights is not None:
        vgg_weights_file(config.vgg_weights)


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

    if "gan" in STAGES[args.stage]:  # what would otherwise fail minutes in, or train something else
        check_gan_stage(args, config, init, "pretrain" in finished_stages())

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
            data = make_dataset(pairs, config, training=True)  # crops of config.crop_size, if set, in both stages
            if stage == "pretrain":
                pretrain(generator, data, config, out, epochs=args.epochs, callbacks=budget(config.pretrain_minutes))
            else:
                train_gan(build_srgan(config, generator), data, config, out, epochs=args.epochs,
                          callbacks=budget(config.gan_minutes))
            finished.append(stage)
            write_run_info(out, finished_stages=sorted(set(finished_stages() + [stage])))
    print(f"qrsr train: done; generator weights in {out}", flush=True)
    return 0
