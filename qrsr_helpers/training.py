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
    """Save to a temporary name, then rename: a crash mid-write never leaves a corrupt file at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
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
        keras.callbacks.BackupAndRestore(str(out_dir / f"backup_{stage}"), delete_checkpoint=False),
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
    optimizer = keras.optimizers.Adam(config.learning_rate, use_ema=True, ema_momentum=config.ema_decay)
    generator.compile(optimizer=optimizer, loss=pixel_loss(config.pixel_loss),
                      jit_compile=config.jit_compile and keras.backend.backend() != "torch")
    history = generator.fit(train_data, validation_data=val_data, epochs=epochs or config.pretrain_epochs,
                            steps_per_epoch=_steps(train_data, config), verbose=_verbosity(),
                            callbacks=standard_callbacks(out_dir, generator, config, "pretrain") + (callbacks or []))
    # fit() swapped the EMA weights in (optimizer.finalize_variable_values): save what we evaluate.
    atomic_save_weights(generator, out_dir / "generator_pretrain.weights.h5")
    return history


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
    get the most out of a fixed lease of a machine (a GPU hour, a CPU session)."""

    def __init__(self, minutes: float, base_learning_rate: float, floor: float = 0.02):
        super().__init__()
        self.seconds, self.base, self.floor = minutes * 60.0, base_learning_rate, floor
        self.start = None

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()

    def on_train_batch_begin(self, batch, logs=None):
        if batch % 20 == 0:
            done = min(1.0, (time.monotonic() - self.start) / self.seconds)
            factor = self.floor + (1 - self.floor) * 0.5 * (1 + math.cos(math.pi * done))
            self.model.optimizer.learning_rate.assign(self.base * factor)

    def on_epoch_end(self, epoch, logs=None):
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
