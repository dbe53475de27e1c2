"""Training: both stages run and learn, resume after SIGKILL, stop cleanly on NaN, save atomically."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from qrsr_helpers.config import get_config
from qrsr_helpers.data.arrays import PairBatches
from qrsr_helpers.data.pairs import generate_pairs
from qrsr_helpers.errors import TrainingDiverged
from qrsr_helpers.models.registry import generator_from_config
from qrsr_helpers.models.vgg import VGGWeightsUnavailable
from qrsr_helpers.training import (
    atomic_save_weights,
    build_srgan,
    gan_content_loss,
    pretrain,
    recalibrate_batchnorm,
    train_gan,
)

CONFIG = get_config("smoke", content_loss="pixel", jit_compile=False)


@pytest.fixture(scope="module")
def pairs():
    return generate_pairs(32, seed=3, degradation="realistic")


def _finite(model: keras.Model) -> bool:
    return all(np.isfinite(w).all() for w in model.get_weights())


def test_pretrain_lowers_the_pixel_loss_and_saves_weights_only(pairs, tmp_path):
    generator = generator_from_config(CONFIG)
    history = pretrain(generator, PairBatches(pairs, 4, steps_per_epoch=8), CONFIG, tmp_path, epochs=3)
    losses = history.history["loss"]
    assert losses[-1] < losses[0]
    saved = tmp_path / "generator_pretrain.weights.h5"
    fresh = generator_from_config(CONFIG)
    fresh.load_weights(saved)
    for a, b in zip(fresh.get_weights(), generator.get_weights()):
        np.testing.assert_array_equal(a, b)
    # Weights alone: no optimizer state in the file (which would be ~3x the size of the weights).
    assert saved.stat().st_size < 3 * sum(w.nbytes for w in generator.get_weights()) + 200_000


def test_gan_step_updates_both_networks_and_reports_losses(pairs, tmp_path):
    generator = generator_from_config(CONFIG)
    gan = build_srgan(CONFIG, generator)
    g_before = [w.copy() for w in gan.generator.get_weights()]
    d_before = [w.copy() for w in gan.discriminator.get_weights()]
    history = train_gan(gan, PairBatches(pairs, 4, steps_per_epoch=2), CONFIG, tmp_path, epochs=1)
    for key in ("g_loss", "d_loss", "content_loss", "adv_loss", "d_real_accuracy", "d_fake_accuracy"):
        assert math.isfinite(history.history[key][-1]), key
    assert any(not np.array_equal(a, b) for a, b in zip(g_before, gan.generator.get_weights()))
    assert any(not np.array_equal(a, b) for a, b in zip(d_before, gan.discriminator.get_weights()))
    assert (tmp_path / "generator_gan.weights.h5").is_file()


class _Poisoned(keras.utils.PyDataset):
    """Batches whose LR is NaN: the loss becomes NaN at the first step."""

    def __len__(self):
        return 4

    def __getitem__(self, index):
        lr = np.full((2, 32, 32, 3), np.nan, np.float32)
        return lr, np.zeros((2, 128, 128, 3), np.float32)


def test_nan_loss_stops_training_without_a_latest_checkpoint(tmp_path):
    generator = generator_from_config(CONFIG)
    with pytest.raises(TrainingDiverged, match="loss"):
        pretrain(generator, _Poisoned(), CONFIG, tmp_path, epochs=2)
    assert not list(tmp_path.rglob("*.weights.h5")), "weights were saved after the loss went NaN"


def test_atomic_save_leaves_no_temporary_file(tmp_path):
    model = generator_from_config(CONFIG)
    path = atomic_save_weights(model, tmp_path / "g.weights.h5")
    assert path.is_file() and [p.name for p in tmp_path.iterdir()] == ["g.weights.h5"]


def test_ema_spans_at_most_a_tenth_of_the_run():
    from qrsr_helpers.training import ema_momentum

    config = get_config("smoke", ema_decay=0.999)
    assert ema_momentum(config, 100) == pytest.approx(0.9)  # 0.9**100: the initial weights are forgotten
    assert ema_momentum(config, 1_000_000) == 0.999
    # after the run, the untrained start's share of the average: forgotten, where 0.999 would keep 90 %
    assert ema_momentum(config, 100) ** 100 < 1e-4


def test_a_time_budgeted_pretrain_sizes_its_ema_for_a_short_run(pairs, tmp_path):
    """``epochs`` is only a cap when a ``TimeBudget`` stops the stage: an EMA sized for 200 epochs x 25 steps
    (0.998) would still hold 23 % of the random start after the 725 steps a loaded CPU managed."""
    from qrsr_helpers.training import TimeBudget

    config = get_config("smoke", content_loss="pixel", jit_compile=False, steps_per_epoch=25, ema_decay=0.9999)
    generator = generator_from_config(config)
    pretrain(generator, PairBatches(pairs, 4, steps_per_epoch=1), config, tmp_path, epochs=5000,
             callbacks=[TimeBudget(0.0005)])
    assert generator.optimizer.ema_momentum == pytest.approx(0.99)


class _StopAfter(keras.callbacks.Callback):
    """Interrupts ``fit`` (as Ctrl-C would) at the end of epoch ``epoch``, after the backup of that epoch
    was written, and keeps what the networks and G's optimizer held at that instant."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch, self.state = epoch, None

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            gan = self.model
            self.state = ([w.copy() for w in gan.generator.get_weights()],
                          [w.copy() for w in gan.discriminator.get_weights()], int(gan.g_optimizer.iterations))
            raise KeyboardInterrupt


class _StateAtStart(keras.callbacks.Callback):
    """What the networks hold when ``fit`` starts, after the backup callback restored them."""

    def on_train_begin(self, logs=None):
        gan = self.model
        self.state = ([w.copy() for w in gan.generator.get_weights()],
                      [w.copy() for w in gan.discriminator.get_weights()], int(gan.g_optimizer.iterations))


def test_an_interrupted_gan_stage_resumes_from_its_weights_not_from_scratch(pairs, tmp_path):
    """Stage 2 resumed after an interruption starts from G's and D's weights (and G's optimizer step) of the
    last finished epoch, compared weight by weight: not from the initial generator, not from a fresh D."""
    data = PairBatches(pairs, 4, steps_per_epoch=2)
    keras.utils.set_random_seed(1)
    stop = _StopAfter(epoch=1)
    with pytest.raises(KeyboardInterrupt):
        train_gan(build_srgan(CONFIG, generator_from_config(CONFIG)), data, CONFIG, tmp_path, epochs=4,
                  callbacks=[stop])
    assert stop.state is not None and stop.state[2] == 4  # two epochs of two steps
    keras.utils.set_random_seed(2)  # another start: only the backup can make the weights equal
    start = _StateAtStart()
    history = train_gan(build_srgan(CONFIG, generator_from_config(CONFIG)), data, CONFIG, tmp_path, epochs=4,
                        callbacks=[start])
    for saved, restored in zip(stop.state[0] + stop.state[1], start.state[0] + start.state[1]):
        np.testing.assert_array_equal(saved, restored)
    assert start.state[2] == stop.state[2]
    assert len(history.history["g_loss"]) == 2  # the two epochs left, not four


def test_recalibrated_batchnorm_holds_the_statistics_of_the_given_inputs():
    """After recalibration a BatchNorm layer's moving mean is the mean of its inputs over all batches given
    (not of the last one, which is what momentum 0.5 leaves), and trainable weights are unchanged."""
    image = keras.Input((4, 4, 2))
    norm = keras.layers.BatchNormalization(momentum=0.5)
    model = keras.Model(image, norm(image))
    batches = [np.full((3, 4, 4, 2), value, "float32") for value in (1.0, 2.0, 6.0)]
    trained = [w.copy() for w in model.trainable_weights[0].numpy()]
    assert recalibrate_batchnorm(model, batches) == 1
    np.testing.assert_allclose(norm.moving_mean.numpy(), [3.0, 3.0], rtol=1e-6)
    assert norm.momentum == 0.5
    np.testing.assert_array_equal(model.trainable_weights[0].numpy(), trained)


def test_content_loss_says_which_ran_and_falls_back_only_when_asked(monkeypatch, tmp_path):
    pixel_fn, said = gan_content_loss(get_config("cpu"))
    assert said == "l1 on pixels"
    hr = np.zeros((1, 8, 8, 3), "float32")
    assert float(pixel_fn(hr, hr + 0.25)) == pytest.approx(0.25)
    _, said = gan_content_loss(get_config("smoke"))  # content_loss="vgg", vgg_weights=None
    assert "VGG19 block3_conv4" in said and "RANDOM" in said
    missing = get_config("smoke", vgg_weights=str(tmp_path / "no_such_vgg19.h5"))
    with pytest.raises(VGGWeightsUnavailable, match="no_such_vgg19"):
        gan_content_loss(missing)
    fallback, said = gan_content_loss(missing, fall_back=True)
    assert said.startswith("l1 on pixels (ImageNet VGG19 unavailable") and "no_such_vgg19" in said
    assert float(fallback(hr, hr + 0.5)) == pytest.approx(0.5)
