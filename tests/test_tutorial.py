"""The source tutorial's loop: its four models as it built them, and one step that trains D and then G alone."""

import warnings

import numpy as np

from qrsr_helpers.tutorial import build_tutorial_models, tutorial_step


def test_one_step_trains_d_then_g_through_the_frozen_d():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # random VGG weights warn
        models = build_tutorial_models(hr_size=32, n_res_blocks=1, filters=8, disc_filters=8)
    assert models.discriminator.output.shape[-1] == 1 and not models.discriminator.trainable
    rng = np.random.default_rng(0)
    hr = rng.random((1, 32, 32, 3)).astype("float32")
    lr = hr.reshape(1, 8, 4, 8, 4, 3).mean(axis=(2, 4))
    g_before, d_before = models.generator.get_weights(), models.discriminator.get_weights()
    d_loss, g_loss = tutorial_step(models, lr, hr)
    assert np.isfinite(d_loss) and np.isfinite(g_loss) and d_loss > 0
    assert any(not np.array_equal(a, b) for a, b in zip(g_before, models.generator.get_weights()))
    assert any(not np.array_equal(a, b) for a, b in zip(d_before, models.discriminator.get_weights()))
    probability = models.discriminator.predict(hr, verbose=0)
    assert ((0 <= probability) & (probability <= 1)).all()  # the tutorial's sigmoid output
