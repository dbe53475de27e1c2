"""Two-stage training, as in the SRGAN paper and every serious SR codebase.

1. **SRResNet pre-training**: the generator alone, pixel loss (L1). A plain ``compile``/``fit``:
   backend-agnostic, so the bundled generator can be trained with JAX on a GPU machine too.
2. **SRGAN fine-tuning** from that generator: content loss (VGG features, pixels or both) plus
   ``adv_weight`` x adversarial loss, generator and discriminator updated in one ``train_step``
   (TensorFlow backend: ``tf.GradientTape``, ``tf.distribute``-aware).

Both stages are ``keras.Model.fit`` calls, so they get progress bars, ``History``, callbacks,
``BackupAndRestore`` (an interrupted run resumes at its last epoch), ``TerminateOnNaN`` and
checkpoints for free. The generator's exponential moving average (EMA, as BasicSR evaluates) is
the optimizer's own ``use_ema``; it lives in the optimizer state, so it is backed up and resumed
too, and it is swapped into the generator when a stage ends.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

import keras
import numpy as np
from keras import ops

from .config import Config
from .losses import adversarial_losses, pixel_loss, vgg_content_loss
from .models import build_discriminator, build_generator, build_vgg


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; nothing was saved as "latest" after it."""


def generator_from_config(config: Config, name: str = "generator") -> keras.Model:
    return build_generator(n_res_blocks=config.n_res_blocks, n_upscale=config.n_upscale, upsampling=config.upsampling,
                           channels=config.channels, filters=config.filters, name=name)


def atomic_save_weights(model: keras.Model, path: str | os.PathLike) -> Path:
    """Save the model's weights alone (a compiled model would also write its optimizer's state, 4x
    the size) to a temporary name, then rename: a crash mid-write never leaves a corrupt ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    if getattr(model, "optimizer", None) is not None:
        bare = keras.models.clone_model(model)
        bare.set_weights(model.get_weights())
        model = bare
    model.save_weights(tmp)
    os.replace(tmp, path)
    return path


class GeneratorCheckpoint(keras.callbacks.Callback):
    """Every ``every`` epochs (the tutorial saved every 5) and at the end: the generator's weights as
    ``generator_epoch{N}.weights.h5`` and ``generator_latest.weights.h5``, written atomically, and
    never after a non-finite loss."""

    def __init__(self, generator: keras.Model, directory: str | os.PathLike, every: int = 5):
        super().__init__()
        self.generator, self.directory, self.every = generator, Path(directory), max(1, every)

    def on_epoch_end(self, epoch, logs=None):
        finite = all(math.isfinite(float(v)) for v in (logs or {}).values())
        if finite and (epoch + 1) % self.every == 0:
            atomic_save_weights(self.generator, self.directory / f"generator_epoch{epoch + 1:04d}.weights.h5")
            atomic_save_weights(self.generator, self.directory / "generator_latest.weights.h5")


class StopOnNonFinite(keras.callbacks.Callback):
    """Like ``TerminateOnNaN``, but raises :class:`TrainingDiverged` with the loss name and step, so a
    script or notebook cannot mistake a diverged run for a finished one."""

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            if not math.isfinite(float(value)):
                self.model.stop_training = True
                raise TrainingDiverged(f"{name} became {value} at batch {batch}: lower the learning rate "
                                       "or check the data range; the last good checkpoint is kept.")


def standard_callbacks(out_dir: Path, generator: keras.Model, config: Config, stage: str) -> list:
    """Backup/resume, NaN stop, CSV history and generator checkpoints for one stage's ``fit``."""
    callbacks = [
        StopOnNonFinite(),
        keras.callbacks.BackupAndRestore(str(out_dir / f"backup_{stage}")),  # deleted when the stage completes
        keras.callbacks.CSVLogger(str(out_dir / f"history_{stage}.csv"), append=True),
        GeneratorCheckpoint(generator, out_dir / "checkpoints" / stage, config.checkpoint_every),
    ]
    if keras.backend.backend() == "tensorflow":
        callbacks.append(keras.callbacks.TensorBoard(str(out_dir / "logs" / stage), write_graph=False))
    return callbacks


def pretrain(generator: keras.Model, train_data, config: Config, out_dir: str | os.PathLike,
             val_data=None, epochs: int | None = None, callbacks: list | None = None) -> keras.callbacks.History:
    """Stage 1: SRResNet pre-training with the pixel loss (``config.pixel_loss``), Adam + EMA.

    ``train_data`` yields ``(lr, hr)`` batches in [0, 1] (tf.data or ``PairBatches``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    epochs = epochs or config.pretrain_epochs
    optimizer = keras.optimizers.Adam(config.learning_rate, use_ema=True,
                                      ema_momentum=ema_momentum(config, epochs * _epoch_steps(train_data, config)))
    generator.compile(optimizer=optimizer, loss=pixel_loss(config.pixel_loss),
                      jit_compile=config.jit_compile and keras.backend.backend() != "torch")
    history = generator.fit(train_data, validation_data=val_data, epochs=epochs,
                            steps_per_epoch=_steps(train_data, config), verbose=_verbosity(),
                            callbacks=standard_callbacks(out_dir, generator, config, "pretrain") + (callbacks or []))
    # fit() swapped the EMA weights in (optimizer.finalize_variable_values): save what we evaluate.
    atomic_save_weights(generator, out_dir / "generator_pretrain.weights.h5")
    return history


def ema_momentum(config: Config, total_steps: int) -> float:
    """``config.ema_decay``, shortened so the average spans at most a tenth of the run: Keras' EMA starts
    at the initial weights without bias correction, so 0.999 over a 100-step run would still be 90 %
    the untrained network (0.999**100) when ``fit`` swaps the average in."""
    return float(min(config.ema_decay, max(0.0, 1.0 - 10.0 / max(total_steps, 1))))


def _epoch_steps(train_data, config: Config) -> int:
    return len(train_data) if isinstance(train_data, keras.utils.PyDataset) else config.steps_per_epoch


def _steps(train_data, config: Config) -> int | None:
    return None if isinstance(train_data, keras.utils.PyDataset) else config.steps_per_epoch


def _verbosity() -> int | str:
    """Progress bars in a terminal or notebook; one line per epoch in logs (CI, nohup)."""
    return "auto" if sys.stdout.isatty() or _in_notebook() else 2


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return shell is not None and "ZMQ" in type(shell).__name__


class TimeBudget(keras.callbacks.Callback):
    """Cosine learning-rate decay over a wall-clock budget, and a stop when it is spent: the way to
    get the most out of a fixed lease of a machine (a GPU hour, a CPU session). Decays every
    optimizer the model has (one for SRResNet, generator's and discriminator's for SRGAN)."""

    def __init__(self, minutes: float, floor: float = 0.02):
        super().__init__()
        self.seconds, self.floor = minutes * 60.0, floor
        self.start, self.bases = None, []

    def _optimizers(self) -> list:
        candidates = (self.model.optimizer, getattr(self.model, "g_optimizer", None), getattr(self.model, "d_optimizer", None))
        return [o for o in candidates if o is not None]

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()
        self.bases = [(o, float(o.learning_rate)) for o in self._optimizers()]

    def on_train_batch_begin(self, batch, logs=None):
        if batch % 20 == 0:
            done = min(1.0, (time.monotonic() - self.start) / self.seconds)
            factor = self.floor + (1 - self.floor) * 0.5 * (1 + math.cos(math.pi * done))
            for optimizer, base in self.bases:
                optimizer.learning_rate.assign(base * factor)

    def on_train_batch_end(self, batch, logs=None):
        # Checked per batch, not per epoch: on a slow machine one epoch can outlast the whole budget.
        if time.monotonic() - self.start >= self.seconds:
            self.model.stop_training = True


def write_run_info(out_dir: str | os.PathLike, **info) -> Path:
    """Write (merge) ``run.json`` beside the checkpoints: what was trained, how, for how long."""
    path = Path(out_dir) / "run.json"
    old = json.loads(path.read_text()) if path.is_file() else {}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**old, **info}, indent=2, default=str))
    return path


def sample_grid_callback(generator: keras.Model, lr: np.ndarray, hr: np.ndarray, out_dir: str | os.PathLike):
    """A callback that saves an LR | SR | HR grid (PNG) after every epoch, for watching training."""
    from .plots import save_comparison_grid

    class _Samples(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            sr = generator.predict(lr.astype("float32") / 255.0, verbose=0)
            save_comparison_grid(Path(out_dir) / f"samples_epoch{epoch + 1:04d}.png", lr, sr, hr)

    return _Samples()


def distribution_strategy():
    """The ``tf.distribute`` strategy for the devices present, chosen in one place for the trainer and
    ``qrsr train``: ``TPUStrategy`` on a TPU (Colab), ``MirroredStrategy`` on several GPUs (or several
    logical CPU devices, as the tests use), the default strategy otherwise."""
    import tensorflow as tf

    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    except (ValueError, tf.errors.NotFoundError, RuntimeError):
        pass
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    if len(devices) > 1:
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    return tf.distribute.get_strategy()


def mixed_precision_policy(config: Config) -> str:
    """The profile's policy where it pays (``mixed_float16`` on a GPU, ``mixed_bfloat16`` on a TPU),
    ``float32`` on a CPU, where float16 maths is emulated and slower."""
    import tensorflow as tf

    if not config.mixed_precision:
        return "float32"
    if tf.config.list_logical_devices("TPU"):
        return "mixed_bfloat16"
    return config.mixed_precision if tf.config.list_logical_devices("GPU") else "float32"


class SRGAN(keras.Model):
    """Stage 2: generator and discriminator trained together in one ``train_step`` (TensorFlow backend).

    Generator loss = ``content_weight`` x content + ``adv_weight`` x BCE(D(G(lr)), real); content is the
    VGG feature MSE (the tutorial), the pixel loss, or both. Discriminator loss = BCE on real HR vs
    G(lr). Losses are divided by the number of replicas, so gradients summed across devices by a
    ``tf.distribute`` strategy are the global-batch mean; under ``mixed_float16`` both optimizers are
    wrapped in a ``LossScaleOptimizer`` (as ``compile`` would wrap a single one), whose ``scale_loss``
    keeps small float16 gradients from underflowing to zero.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, vgg: keras.Model | None = None,
                 content_loss: str = "vgg", pixel_loss_kind: str = "l1", adv_weight: float = 1e-3,
                 content_weight: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if content_loss in ("vgg", "both") and vgg is None:
            raise ValueError(f"content_loss={content_loss!r} needs a VGG feature extractor (build_vgg)")
        self.generator, self.discriminator, self.vgg = generator, discriminator, vgg
        self.content_loss, self.adv_weight, self.content_weight = content_loss, adv_weight, content_weight
        self.pixel_loss = pixel_loss(pixel_loss_kind)
        self.built = True  # its parts are built functional models: nothing left to infer from data

    def compile(self, g_optimizer: keras.optimizers.Optimizer, d_optimizer: keras.optimizers.Optimizer, **kwargs):
        # No model-level optimizer: each network has its own. Building them now gives BackupAndRestore
        # their variables to restore into, so a resumed run continues with its Adam moments and EMA.
        super().compile(optimizer=None, **kwargs)
        if self.dtype_policy.name == "mixed_float16":  # what compile() does for a model's one optimizer
            g_optimizer, d_optimizer = (o if isinstance(o, keras.optimizers.LossScaleOptimizer)
                                        else keras.optimizers.LossScaleOptimizer(o) for o in (g_optimizer, d_optimizer))
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        g_optimizer.build(self.generator.trainable_variables)
        d_optimizer.build(self.discriminator.trainable_variables)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in
                         ("g_loss", "d_loss", "content_loss", "adv_loss", "d_real_accuracy", "d_fake_accuracy")}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, lr, training=False):
        return self.generator(lr, training=training)

    def content(self, hr, sr):
        sr32, hr32 = ops.cast(sr, "float32"), ops.cast(hr, "float32")
        if self.content_loss == "pixel":
            return self.pixel_loss(hr32, sr32)
        features = vgg_content_loss(self.vgg, hr, sr)
        return features if self.content_loss == "vgg" else features + self.pixel_loss(hr32, sr32)

    def train_step(self, data):
        import tensorflow as tf

        lr, hr = data
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            sr = self.generator(lr, training=True)
            real_logits = self.discriminator(hr, training=True)
            fake_logits = self.discriminator(sr, training=True)
            d_loss, adv_loss = adversarial_losses(real_logits, fake_logits)
            content = self.content(hr, sr)
            g_loss = self.content_weight * content + self.adv_weight * adv_loss
            g_scaled = self.g_optimizer.scale_loss(g_loss / replicas)
            d_scaled = self.d_optimizer.scale_loss(d_loss / replicas)
        g_vars, d_vars = self.generator.trainable_variables, self.discriminator.trainable_variables
        self.g_optimizer.apply_gradients(zip(g_tape.gradient(g_scaled, g_vars), g_vars))
        self.d_optimizer.apply_gradients(zip(d_tape.gradient(d_scaled, d_vars), d_vars))
        values = dict(g_loss=g_loss, d_loss=d_loss, content_loss=content, adv_loss=adv_loss,
                      d_real_accuracy=ops.mean(ops.cast(real_logits > 0, "float32")),
                      d_fake_accuracy=ops.mean(ops.cast(fake_logits < 0, "float32")))
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def test_step(self, data):
        lr, hr = data
        sr = self.generator(lr, training=False)
        self.trackers["content_loss"].update_state(self.content(hr, sr))
        return {"content_loss": self.trackers["content_loss"].result()}


def build_srgan(config: Config, generator: keras.Model, total_steps: int | None = None) -> SRGAN:
    """The stage-2 model for ``config`` around ``generator`` (call inside the strategy's scope);
    ``total_steps`` (default: the profile's GAN epochs x steps) sizes the generator's EMA."""
    discriminator = build_discriminator((config.hr_size, config.hr_size, config.channels), filters=config.disc_filters)
    vgg = build_vgg(config.vgg_layer, config.vgg_weights, channels=config.channels) \
        if config.content_loss in ("vgg", "both") else None
    gan = SRGAN(generator, discriminator, vgg, content_loss=config.content_loss, pixel_loss_kind=config.pixel_loss,
                adv_weight=config.adv_weight, content_weight=config.content_weight)
    momentum = ema_momentum(config, total_steps or config.gan_epochs * config.steps_per_epoch)
    gan.compile(g_optimizer=keras.optimizers.Adam(config.gan_learning_rate, beta_1=0.9, use_ema=True,
                                                  ema_momentum=momentum),
                d_optimizer=keras.optimizers.Adam(config.gan_learning_rate, beta_1=0.9),
                jit_compile=config.jit_compile)
    return gan


def train_gan(gan: SRGAN, train_data, config: Config, out_dir: str | os.PathLike, val_data=None,
              epochs: int | None = None, callbacks: list | None = None) -> keras.callbacks.History:
    """Stage 2: fit the SRGAN, then swap the generator's EMA weights in and save them."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    history = gan.fit(train_data, validation_data=val_data, epochs=epochs or config.gan_epochs,
                      steps_per_epoch=_steps(train_data, config), verbose=_verbosity(),
                      callbacks=standard_callbacks(out_dir, gan.generator, config, "gan") + (callbacks or []))
    gan.g_optimizer.finalize_variable_values(gan.generator.trainable_variables)
    atomic_save_weights(gan.generator, out_dir / "generator_gan.weights.h5")
    return history


def train_from_cli(args) -> int:
    """``qrsr train``: the same calls as notebook 06, with the run folder printed up front.

    ``--init pretrained`` (or a ``.weights.h5`` with its ``.run.json``) starts from existing weights
    and takes their architecture; ``--minutes`` bounds each stage's wall time (cosine LR decay)."""
    from .data.arrays import PairBatches
    from .data.synth import load_or_generate
    from .enhancer import bundled_path, weights_architecture
    from .config import get_config

    overrides = {}
    init = None
    if args.init:
        init = bundled_path() if args.init == "pretrained" else Path(args.init)
        if not init.is_file():
            raise FileNotFoundError(f"--init weights not found: {init}")
        arch = weights_architecture(init)
        overrides = {k: arch[k] for k in ("n_res_blocks", "filters", "upsampling", "channels")}
    config = get_config(args.profile, **overrides)
    keras.mixed_precision.set_global_policy(mixed_precision_policy(config))
    out = Path(args.out) if args.out else config.run_dir
    print(f"qrsr train: profile={config.profile} stage={args.stage} -> {out.resolve()}\n"
          f"  checkpoints: {out / 'checkpoints'}  history: {out}/history_*.csv  TensorBoard: {out / 'logs'}\n"
          f"  an interrupted run resumes from {out}/backup_* when re-run with the same arguments", flush=True)
    pairs = load_or_generate(config, "train")
    batches = PairBatches(pairs, config.batch_size, seed=config.data_seed, steps_per_epoch=config.steps_per_epoch)
    budget = [TimeBudget(args.minutes)] if getattr(args, "minutes", None) else []
    strategy = distribution_strategy()
    with strategy.scope():
        generator = generator_from_config(config)
        if init:
            generator.load_weights(init)
        if args.stage in ("pretrain", "both"):
            pretrain(generator, batches, config, out, epochs=args.epochs, callbacks=budget)
        if args.stage in ("gan", "both"):
            gan = build_srgan(config, generator)
            train_gan(gan, batches, config, out, epochs=args.epochs, callbacks=budget)
    write_run_info(out, profile=config.profile, stage=args.stage, init=str(init) if init else None,
                   architecture=dict(n_res_blocks=config.n_res_blocks, filters=config.filters,
                                     upsampling=config.upsampling, channels=config.channels))
    print(f"qrsr train: done; generator weights in {out}", flush=True)
    return 0
