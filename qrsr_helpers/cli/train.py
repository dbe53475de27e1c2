"""``qrsr train``: notebook 06's calls, resumable at any instant. ``run.json`` (written first) records the model
and the finished stages (never redone); an interrupted stage resumes from its backup."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from . import checked_weights

STAGES = {"pretrain": ("pretrain",), "gan": ("gan",), "both": ("pretrain", "gan")}


def finished_in(out: Path, config) -> list[str]:
    """The stages ``run.json`` records as finished; a :class:`BadFile` if it records another generator than ``config``'s
    (training on would leave weights it describes wrongly)."""
    from ..errors import BadFile
    from ..models.registry import architecture_info, read_run_info

    record, info = out / "run.json", read_run_info(out)
    stages, recorded = info.get("finished_stages", []), info.get("architecture", {})
    if not isinstance(stages, list) or not all(stage in STAGES["both"] for stage in stages):
        raise BadFile(f"{record}: \"finished_stages\" is {json.dumps(stages)[:60]}, not a list of stage names "
                      f"{list(STAGES['both'])}", "bad description")
    if not isinstance(recorded, dict):
        raise BadFile(f"{record}: \"architecture\" is {json.dumps(recorded)[:60]}, not an object", "bad description")
    wanted = architecture_info(config)
    differs = [f"{key}={json.dumps(recorded[key])[:20]}" for key in wanted if key in recorded
               and (recorded[key] != wanted[key] or type(recorded[key]) is not type(wanted[key]))]
    if differs:
        raise BadFile(f"{record}: this run folder holds a generator with {', '.join(differs)}, not the one this "
                      f"command trains ({', '.join(f'{key}={wanted[key]}' for key in wanted)}): use another --out, "
                      "or the --profile / --init it was started with", "bad description")
    return stages


def run(args: argparse.Namespace) -> int:
    """Train the stages asked for into the run folder; ``--init`` weights bring their architecture."""
    from ..config import get_config
    from ..io import check_writable

    init, fields = None, {}
    if args.init:  # its architecture, loaded and checked before anything is written (a BadFile naming it)
        from ..models.registry import architecture, load_pretrained

        init = checked_weights("--init", args.init)
        fields = architecture(init)
        load_pretrained(init, "keras")  # cached: the same model sets the generator's weights below
    config = get_config(args.profile, **fields)
    out = Path(args.out) if args.out else Path(config.runs_dir) / config.profile
    check_writable(out)  # before minutes of work, not after

    import keras

    from ..data.pairs import load_or_generate
    from ..data.pipeline import make_dataset
    from ..errors import InvalidArgument
    from ..models.registry import architecture_info, generator_from_config, load_pretrained, write_run_info
    from ..models.vgg import vgg_weights_file
    from ..training import TimeBudget, build_srgan, distribution_strategy, mixed_precision_policy, pretrain, train_gan

    done = finished_in(out, config)
    if "gan" in STAGES[args.stage]:  # refused now, not minutes in: what would fail or train something else
        if args.stage == "gan" and init is None and "pretrain" not in done:  # an untrained G makes D's job trivial
            raise InvalidArgument("--stage gan starts from a stage-1 generator: add --init pretrained (or a "
                                  ".weights.h5 of yours), or train both stages with --stage both")
        if keras.backend.backend() != "tensorflow":
            raise InvalidArgument(f"qrsr train --stage {args.stage} runs its GAN stage on the tensorflow Keras "
                                  f"backend, not {keras.backend.backend()!r}: unset KERAS_BACKEND, or on JAX use "
                                  "scripts/train_srgan_bundled.py")
        if config.content_loss in ("vgg", "both") and config.vgg_weights is not None:
            vgg_weights_file(config.vgg_weights)  # the VGG weights its content loss needs
    finished = [s for s in STAGES[args.stage] if s in done]
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

    with distribution_strategy().scope():
        generator = generator_from_config(config)
        if "pretrain" in finished:
            generator.set_weights(load_pretrained(out / "generator_pretrain.weights.h5", "keras").get_weights())
        elif init:
            generator.set_weights(load_pretrained(init, "keras").get_weights())
        for stage in [s for s in STAGES[args.stage] if s not in finished]:
            data = make_dataset(pairs, config, training=True)  # crops of config.crop_size, if set, in both stages
            # --minutes; else the profile's budget, unless --epochs asked for a number of epochs
            minutes = args.minutes or (None if args.epochs else getattr(config, f"{stage}_minutes"))
            budget = [TimeBudget(minutes)] if minutes else []
            fit, model = (pretrain, generator) if stage == "pretrain" else (train_gan, build_srgan(config, generator))
            fit(model, data, config, out, epochs=args.epochs, callbacks=budget)
            finished.append(stage)
            write_run_info(out, finished_stages=sorted(set(done + finished)))
    print(f"qrsr train: done; generator weights in {out}", flush=True)
    return 0
