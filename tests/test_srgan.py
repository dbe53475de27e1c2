"""The SRGAN step and model (stage 2) as notebook 06 runs it: the losses, G's EMA, float16 loss scaling, the control.

``stage2`` below makes the same calls, in the same order, as notebook 06's stage-2 cells (``gan_content_loss``,
``gan_optimizers``, ``build_discriminator`` on crops, the lesson's ``srgan_step`` and ``control_step``)."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from qrsr_helpers.config import get_config
from qrsr_helpers.models import build_discriminator, generator_from_config
from qrsr_helpers.srgan import adversarial_losses, control_step, srgan_step
from qrsr_helpers.training import ema_weights, gan_content_loss, gan_optimizers

SMOKE = get_config("smoke", crop_size=16, content_loss="pixel")


@pytest.fixture
def mixed_float16():
    keras.mixed_precision.set_global_policy("mixed_float16")
    yield
    keras.mixed_precision.set_global_policy("float32")


def batch(seed: int = 0, n: int = 16, side: int = 64):
    """Black-and-white HR crops and their area-downscaled LR."""
    rng = np.random.default_rng(seed)
    hr = (rng.random((n, side, side, 3)) > 0.5).astype("float32")
    return hr.reshape(n, side // 4, 4, side // 4, 4, 3).mean(axis=(2, 4)), hr


def stage2(config, steps: int, optimizers=None):
    """Notebook 06's stage-2 set-up and ``steps`` updates on fixed batches; returns what a test inspects."""
    keras.utils.set_random_seed(config.data_seed)
    generator = generator_from_config(config)
    side = (config.crop_size or config.lr_size) * config.scale
    discriminator = build_discriminator((side, side, config.channels), filters=config.disc_filters)
    content_loss, said = gan_content_loss(config, fall_back=True)
    g_optimizer, d_optimizer = optimizers or gan_optimizers(config, steps)
    step = tf.function(lambda lr, hr: srgan_step(lr, hr, generator, discriminator, content_loss, g_optimizer,
                                                 d_optimizer, config.adv_weight))
    before = [w.copy() for w in generator.get_weights()], [w.copy() for w in discriminator.get_weights()]
    logs = [step(*batch(i, side=side)) for i in range(steps)]
    return dict(generator=generator, discriminator=discriminator, before=before, logs=logs, said=said,
                g_optimizer=g_optimizer)


def untouched(before, model) -> float:
    """The share of trainable weight elements a run left exactly as they were."""
    names = {id(v) for v in model.trainable_weights}
    pairs = [(a, w.numpy()) for a, w in zip(before, model.weights) if id(w) in names]
    return sum(int((a == b).sum()) for a, b in pairs) / sum(a.size for a, _ in pairs)


@pytest.mark.slow
def test_stage2_under_mixed_float16_moves_both_networks_and_stays_finite(mixed_float16):
    run = stage2(SMOKE, steps=3)
    assert isinstance(run["g_optimizer"], keras.optimizers.LossScaleOptimizer)
    assert run["generator"].compute_dtype == "float16"
    for model, before in zip((run["generator"], run["discriminator"]), run["before"]):
        assert all(np.isfinite(w).all() for w in model.get_weights()), model.name
        trainable = {id(v) for v in model.trainable_weights}
        moved = [not np.array_equal(a, w.numpy()) for a, w in zip(before, model.weights) if id(w) in trainable]
        assert all(moved), f"{model.name}: {moved.count(False)} of {len(moved)} weights did not move"
    for logs in run["logs"]:
        assert all(np.isfinite(float(v)) for v in logs.values())


@pytest.mark.slow
def test_loss_scaling_is_what_carries_the_discriminators_signal_in_float16(mixed_float16):
    """G's only loss here is the adversarial one (content weight 0): ``adv_weight = 1e-3`` times a gradient
    that passes back through D's dense layers is mostly below float16's smallest number (6e-8). With loss
    scaling (``gan_optimizers`` under ``mixed_float16``) every weight of G moves; without it (plain Adam, as
    notebook 06 had it) a share of G's weights gets exact zero gradients from D in all three steps (measured
    here: 0.000 % with scaling, 2.7 % without; seed 1: 0.01 % and 3.3 %), so D's signal is partly lost. The
    second half of this test is that proof, kept: it fails if the difference ever disappears."""
    config = SMOKE.replace(content_weight=0.0, data_seed=7)
    scaled = stage2(config, steps=3)
    assert untouched(scaled["before"][0], scaled["generator"]) < 5e-4
    plain = stage2(config, steps=3, optimizers=(keras.optimizers.Adam(config.gan_learning_rate),
                                                keras.optimizers.Adam(config.gan_learning_rate)))
    assert untouched(plain["before"][0], plain["generator"]) > 5e-3


def test_the_control_step_is_the_srgan_step_with_adv_weight_zero():
    """Same start, same batch: ``control_step`` and ``srgan_step(adv_weight=0)`` leave G identical, so the
    control may skip D; with the paper's weight G ends somewhere else, so D's term does reach G."""
    config = get_config("smoke", content_loss="pixel")
    lr, hr = batch(1, side=32)
    keras.utils.set_random_seed(4)
    start = generator_from_config(config).get_weights()
    results = {}
    for name, adv_weight in (("control", None), ("adv 0", 0.0), ("adv 1e-3", 1e-3)):
        generator = generator_from_config(config)
        generator.set_weights(start)
        optimizer = keras.optimizers.SGD(0.1)
        content, _ = gan_content_loss(config)
        if adv_weight is None:
            twin = generator_from_config(config)
            twin.set_weights(start)
            before = float(content(hr, twin(lr, training=True)))  # the loss of the step, on the starting weights
            logs = control_step(lr, hr, generator, content, optimizer)
            assert list(logs) == ["content_loss"] and float(logs["content_loss"]) == pytest.approx(before, rel=1e-5)
        else:
            keras.utils.set_random_seed(5)
            discriminator = build_discriminator((32, 32, 3), filters=8)
            srgan_step(lr, hr, generator, discriminator, content, optimizer, keras.optimizers.SGD(0.1), adv_weight)
        results[name] = generator.get_weights()
    for a, b in zip(results["control"], results["adv 0"]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert any(not np.allclose(a, b, rtol=1e-6, atol=1e-7) for a, b in zip(results["control"], results["adv 1e-3"]))
    assert any(not np.array_equal(a, c) for a, c in zip(results["control"], start))


@pytest.mark.slow
def test_ema_weights_are_the_average_not_the_current_weights():
    run = stage2(SMOKE, steps=3, optimizers=gan_optimizers(SMOKE, total_steps=100))  # EMA momentum 0.9
    generator, optimizer = run["generator"], run["g_optimizer"]
    average = ema_weights(generator, optimizer)
    current = generator.get_weights()
    trainable = {id(v) for v in generator.trainable_weights}
    for value, now, start, variable in zip(average, current, run["before"][0], generator.weights):
        if id(variable) in trainable:  # between the start and now, equal to neither
            assert not np.array_equal(value, now) and not np.array_equal(value, start)
        else:  # BatchNorm statistics are not averaged
            np.testing.assert_array_equal(value, now)
    optimizer.finalize_variable_values(generator.trainable_variables)
    for value, now in zip(average, generator.get_weights()):
        np.testing.assert_allclose(value, now, rtol=1e-6)


def test_adversarial_losses_match_the_formulas_for_known_logits():
    """BCE on logits: label 1 costs softplus(-x) = -log sigmoid(x), label 0 costs softplus(x); D's loss is the sum
    of its two means, G's the fake images' label-1 cost (the non-saturating generator loss)."""
    from qrsr_helpers.srgan import adversarial_losses

    real, fake = np.array([[2.0], [-1.0], [0.0]]), np.array([[0.5], [-3.0], [4.0]])
    softplus = lambda x: np.log1p(np.exp(x))
    d_loss, g_adv = adversarial_losses(real, fake)
    assert float(d_loss) == pytest.approx(softplus(-real).mean() + softplus(fake).mean(), rel=1e-5)
    assert float(g_adv) == pytest.approx(softplus(-fake).mean(), rel=1e-5)


def test_the_step_reports_g_loss_as_content_plus_weighted_adversarial_and_ds_accuracies():
    config = get_config("smoke", content_loss="pixel")
    keras.utils.set_random_seed(2)
    generator, discriminator = generator_from_config(config), build_discriminator((32, 32, 3), filters=8)
    content, _ = gan_content_loss(config)
    lr, hr = batch(3, n=8, side=32)
    real_logits = np.asarray(discriminator(hr, training=True))  # what D says before the update, as the step sees it
    logs = srgan_step(lr, hr, generator, discriminator, content, keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0),
                      adv_weight=0.37)
    expected = float(logs["content_loss"]) + 0.37 * float(logs["adv_loss"])
    assert float(logs["g_loss"]) == pytest.approx(expected, rel=1e-6)
    assert float(logs["d_real_accuracy"]) == pytest.approx(float((real_logits > 0).mean()))
    assert 0.0 <= float(logs["d_fake_accuracy"]) <= 1.0


def test_d_judges_the_fakes_in_training_mode_like_the_reals():
    """D's BatchNorm statistics after a step are those of the real batch and then the fake batch, both seen in
    training mode (as the tutorial's ``train_on_batch`` calls did); the step's defaults are the paper's."""
    import inspect

    from qrsr_helpers.config import Config

    config = get_config("smoke", content_loss="pixel")
    lr, hr = batch(2, side=32)
    keras.utils.set_random_seed(6)
    generator, discriminator = generator_from_config(config), build_discriminator((32, 32, 3), filters=8)
    twin_g, twin_d = generator_from_config(config), build_discriminator((32, 32, 3), filters=8)
    twin_g.set_weights(generator.get_weights())
    twin_d.set_weights(discriminator.get_weights())
    content, _ = gan_content_loss(config)
    logs = srgan_step(lr, hr, generator, discriminator, content, keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
    twin_d(hr, training=True)
    twin_d(twin_g(lr, training=True), training=True)
    for ours, expected in zip(discriminator.non_trainable_weights, twin_d.non_trainable_weights):
        np.testing.assert_allclose(ours.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
    assert set(logs) == {"g_loss", "d_loss", "content_loss", "adv_loss", "d_real_accuracy", "d_fake_accuracy"}
    assert inspect.signature(srgan_step).parameters["adv_weight"].default == Config().adv_weight == 1e-3


def test_adversarial_losses_from_logits():
    zero = np.zeros((4, 1), np.float32)  # D undecided: p = 0.5 everywhere
    d_loss, g_loss = adversarial_losses(zero, zero)
    assert float(d_loss) == pytest.approx(2 * math.log(2), rel=1e-5)
    assert float(g_loss) == pytest.approx(math.log(2), rel=1e-5)
    # A confident D: sigmoid(-30) underflows in float16, log(sigmoid) from logits stays exact.
    d_loss, g_loss = adversarial_losses(np.full((4, 1), 30.0, np.float16), np.full((4, 1), -30.0, np.float16))
    assert float(d_loss) == pytest.approx(0.0, abs=1e-6)
    assert float(g_loss) == pytest.approx(30.0, rel=1e-4)

