"""Two-stage training (the SRGAN paper's): pixel-loss pre-training, then SRGAN fine-tuning, both ``fit`` calls."""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

import keras
import numpy as np
from keras import ops

from .config import Config
from .environment import in_notebook_kernel
from .errors import TrainingDiverged, error_line
from .io import atomic_path
from .losses import pixel_loss, vgg_content_loss
from .models import build_discriminator, build_vgg


def atomic_save_weights(model: keras.Model, path: str | os.PathLike) -> Path:
    """The weights alone (a compiled model's file would hold its optimizer too, 4x the size), written atomically."""
    if getattr(model, "optimizer", None) is not None:
        bare = keras.models.clone_model(model)
        bare.set_weights(model.get_weights())
        model = bare
    with atomic_path(path) as tmp:
        model.save_weights(tmp)
    return Path(path)


class GeneratorCheckpoint(keras.callbacks.Callback):
    """Every ``every`` epochs: ``generator_epoch{N}`` (unless ``epoch_files=False``) and ``generator_latest``."""

    def __init__(self, generator: keras.Model, directory: str | os.PathLike, every: int = 5, epoch_files: bool = True):
        super().__init__()
        self.generator, self.directory, self.every = generator, Path(directory), max(1, every)
        self.epoch_files = epoch_files

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0 and all(math.isfinite(float(v)) for v in (logs or {}).values()):
            for name in [f"generator_epoch{epoch + 1:04d}"] * self.epoch_files + ["generator_latest"]:
                atomic_save_weights(self.generator, self.directory / f"{name}.weights.h5")


class StopOnNonFinite(keras.callbacks.Callback):
    """``TerminateOnNaN`` raising :class:`TrainingDiverged`: no script mistakes a diverged run for a finished one."""

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            if not math.isfinite(float(value)):
                raise TrainingDiverged(f"{name} became {value} at batch {batch}: lower the learning rate "
                                       "or check the data range; the last good checkpoint is kept.")


class ResumableBackup(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` whose unreadable backup is set aside and the stage started over, instead of every re-run
    crashing on it (``double_checkpoint``, the previous backup, survives a kill while Keras rewrites the latest)."""

    def on_train_begin(self, logs=None):
        try:
            super().on_train_begin(logs)
        except Exception as error:  # noqa: BLE001 - OSError, ValueError, JSONDecodeError, h5py's errors
            backup = Path(self.backup_dir)
            aside = backup.with_name(f"{backup.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
            backup.rename(aside)
            print(f"qrsr: the backup in {backup} was unreadable ({type(error).__name__}: {error_line(error, 120)}); "
                  f"moved it to {aside} and started this stage over", flush=True)


def pretrain(generator: keras.Model, train_data, config: Config, out_dir: str | os.PathLike,
             epochs: int | None = None, callbacks: list | None = None) -> keras.callbacks.History:
    """Stage 1: the generator alone, ``config.pixel_loss``, Adam + EMA, on ``(lr, hr)`` batches in [0, 1]."""
    epochs = epochs or config.pretrain_epochs
    planned = epochs * (_steps(train_data, config) or len(train_data))
    # A budget stops long before epochs x steps: an EMA sized for those would still hold much of the random start.
    planned = min(planned, 1000) if any(isinstance(c, TimeBudget) for c in callbacks or []) else planned
    optimizer = keras.optimizers.Adam(config.learning_rate, use_ema=True, ema_momentum=ema_momentum(config, planned))
    generator.compile(optimizer=optimizer, loss=pixel_loss(config.pixel_loss),
                      jit_compile=config.jit_compile and keras.backend.backend() != "torch")
    return _fit_stage(generator, generator, optimizer, "pretrain", train_data, config, out_dir, epochs, callbacks)


def _fit_stage(model, generator, optimizer, stage: str, train_data, config: Config, out_dir, epochs: int,
               callbacks: list | None) -> keras.callbacks.History:
    """``fit``; then the generator's EMA swapped in (``fit`` does it only for a model's own optimizer), and saved."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    standard = [StopOnNonFinite(), ResumableBackup(str(out_dir / f"backup_{stage}"), double_checkpoint=True),
                keras.callbacks.CSVLogger(str(out_dir / f"history_{stage}.csv"), append=True),
                GeneratorCheckpoint(generator, out_dir / "checkpoints" / stage, config.checkpoint_every)]
    if keras.backend.backend() == "tensorflow":
        standard.append(keras.callbacks.TensorBoard(str(out_dir / "logs" / stage), write_graph=False))
    verbose = "auto" if sys.stdout.isatty() or in_notebook_kernel() else 2  # one line per epoch in logs (CI, nohup)
    history = model.fit(train_data, epochs=epochs, steps_per_epoch=_steps(train_data, config), verbose=verbose,
                        callbacks=standard + (callbacks or []))
    optimizer.finalize_variable_values(generator.trainable_variables)
    recalibrate_batchnorm(generator, training_inputs(train_data))
    atomic_save_weights(generator, out_dir / f"generator_{stage}.weights.h5")
    return history


def training_inputs(train_data, batches: int = 16) -> list:
    """The LR inputs of the first ``batches`` batches, for :func:`recalibrate_batchnorm`."""
    if isinstance(train_data, keras.utils.PyDataset):
        return [train_data[i % len(train_data)][0] for i in range(batches)]
    return [lr for lr, _ in train_data.take(batches)]


def ema_momentum(config: Config, total_steps: int) -> float:
    """``config.ema_decay``, shortened to span at most a tenth of the run: Keras' EMA has no bias correction, so
    0.999 over 100 steps would still be 90 % the untrained network."""
    return float(min(config.ema_decay, max(0.0, 1.0 - 10.0 / max(total_steps, 1))))


def _steps(train_data, config: Config) -> int | None:
    """A ``PyDataset`` knows its length; a repeated tf.data set takes the profile's steps per epoch."""
    return None if isinstance(train_data, keras.utils.PyDataset) else config.steps_per_epoch


class TimeBudget(keras.callbacks.Callback):
    """Cosine learning-rate decay of every optimizer over a wall-clock budget (a GPU lease), and a stop when spent."""

    def __init__(self, minutes: float, floor: float = 0.02):
        super().__init__()
        self.seconds, self.floor = minutes * 60.0, floor

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()
        optimizers = (getattr(self.model, name, None) for name in ("optimizer", "g_optimizer", "d_optimizer"))
        self.bases = [(o, float(o.learning_rate)) for o in optimizers if o is not None]

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


def distribution_strategy():
    """``TPUStrategy`` on a TPU, ``MirroredStrategy`` on several GPUs (or logical CPUs: the tests), else the default."""
    import tensorflow as tf

    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    except (ValueError, tf.errors.NotFoundError, RuntimeError):
        pass
    devices = [d.name for d in tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(devices) if len(devices) > 1 else tf.distribute.get_strategy()


def mixed_precision_policy(config: Config) -> str:
    """The profile's policy on a GPU, ``mixed_bfloat16`` on a TPU, ``float32`` on a CPU (float16 is emulated there)."""
    import tensorflow as tf

    if config.mixed_precision and tf.config.list_logical_devices("TPU"):
        return "mixed_bfloat16"
    return config.mixed_precision if config.mixed_precision and tf.config.list_logical_devices("GPU") else "float32"


def gan_content_loss(config: Config, fall_back: bool = False):
    """Stage 2's ``content(hr, sr)`` and a sentence saying which it is; with ``fall_back``, VGG weights that cannot be
    had give the pixel loss (and say so) instead of ``VGGWeightsUnavailable``."""
    from .models.vgg import VGGWeightsUnavailable

    kind, pixels, said, vgg = config.content_loss, pixel_loss(config.pixel_loss), f"{config.pixel_loss} on pixels", None
    try:
        vgg = None if kind == "pixel" else build_vgg(config.vgg_layer, config.vgg_weights, channels=config.channels)
    except VGGWeightsUnavailable as error:
        if not fall_back:
            raise
        kind, said = "pixel", f"{said} (ImageNet VGG19 unavailable: {error_line(error, 10_000)})"
    if kind != "pixel":
        weights = "ImageNet" if config.vgg_weights is not None else "RANDOM (architecture only)"
        said = f"VGG19 {config.vgg_layer} features, {weights} weights" + (f", plus {said}" if kind == "both" else "")

    def content(hr, sr):  # in float32 (mixed precision)
        on_pixels = 0.0 if kind == "vgg" else pixels(ops.cast(hr, "float32"), ops.cast(sr, "float32"))
        return config.content_weight * ((0.0 if kind == "pixel" else vgg_content_loss(vgg, hr, sr)) + on_pixels)

    return content, said


def gan_optimizers(config: Config, total_steps: int) -> tuple[keras.optimizers.Optimizer, keras.optimizers.Optimizer]:
    """G's Adam (with the EMA that is saved) and D's, loss-scaled under ``mixed_float16`` as ``compile`` scales one."""
    optimizers = (keras.optimizers.Adam(config.gan_learning_rate, beta_1=0.9, use_ema=True,
                                        ema_momentum=ema_momentum(config, total_steps)),
                  keras.optimizers.Adam(config.gan_learning_rate, beta_1=0.9))
    if keras.mixed_precision.global_policy().name == "mixed_float16":
        return tuple(keras.optimizers.LossScaleOptimizer(optimizer) for optimizer in optimizers)
    return optimizers


def ema_weights(generator: keras.Model, optimizer: keras.optimizers.Optimizer) -> list[np.ndarray]:
    """The generator's weights with the optimizer's EMA in, the generator left as it was."""
    current = generator.get_weights()
    optimizer.finalize_variable_values(generator.trainable_variables)
    averaged = generator.get_weights()
    generator.set_weights(current)
    return averaged


def recalibrate_batchnorm(model: keras.Model, batches) -> int:
    """Every BatchNormalization layer's statistics averaged over ``batches`` (at momentum 0.5 they are the last 2-3
    batches': that noise alone held a fine-tune at 48.5 % clean decodes, not 93.5); returns how many layers."""
    def flat(layer) -> list:
        return [layer] + [inner for child in getattr(layer, "layers", []) for inner in flat(child)]

    layers = [layer for layer in flat(model) if isinstance(layer, keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in layers]
    try:
        for k, inputs in enumerate(batches):
            for layer in layers:  # a running average: batch k counts 1/(k+1)
                layer.momentum = k / (k + 1)
            model(inputs, training=True)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
    return len(layers)


def build_srgan(config: Config, generator: keras.Model, total_steps: int | None = None) -> keras.Model:
    """The stage-2 ``SRGAN`` around ``generator`` (inside the strategy's scope); ``total_steps`` sizes G's EMA."""
    from .srgan import SRGAN

    side = (config.crop_size or config.lr_size) * config.scale  # D judges what G is trained on
    discriminator = build_discriminator((side, side, config.channels), filters=config.disc_filters)
    gan = SRGAN(generator, discriminator, gan_content_loss(config)[0], config.adv_weight)
    gan.compile(*gan_optimizers(config, total_steps or config.gan_steps), jit_compile=config.jit_compile)
    return gan


def train_gan(gan: keras.Model, train_data, config: Config, out_dir: str | os.PathLike, epochs: int | None = None,
              callbacks: list | None = None) -> keras.callbacks.History:
    """Stage 2: fit the SRGAN; the generator's EMA weights saved."""
    return _fit_stage(gan, gan.generator, gan.g_optimizer, "gan", train_data, config, out_dir,
                      epochs or config.gan_epochs, callbacks)
