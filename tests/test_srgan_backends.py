"""The SRGAN update is the same on every Keras backend: the lesson's TensorFlow step (``srgan_step``) and its
JAX twin (``srgan_step_jax``, what a GPU machine without TensorFlow trains with) take two steps from identical
weights on identical batches, each backend in its own process (the JAX one with TensorFlow made unimportable, as
on the GPU machines), and must give the same losses, the same
updated weights of both networks (BatchNorm statistics and the generator's EMA included) within float
tolerance.

The optimizer here is plain SGD (with the EMA): its update is the learning rate times the gradient, so equal
weights mean equal gradients. (Adam's first steps are close to ``lr * sign(gradient)`` whatever the
gradient's size, which would hide a wrong gradient.) Each tensor's update must agree to 1 % of its size: the two
backends' convolutions round differently (element by element up to ~1e-4 with adv_weight 1), a wrong or missing
gradient term changes an update by far more."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.util import find_spec

import numpy as np
import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(find_spec("jax") is None or find_spec("tensorflow") is None,
                                 reason="needs both TensorFlow and JAX (pip install -e '.[dev]' installs both)")]

STEP = r"""
import json, os, sys
if os.environ["KERAS_BACKEND"] == "jax":  # as on the GPU machines: JAX, no TensorFlow
    class NoTensorFlow:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "tensorflow":
                raise ModuleNotFoundError("No module named 'tensorflow' (hidden by the test)")
    sys.meta_path.insert(0, NoTensorFlow())
from pathlib import Path
import keras, numpy as np
from qrsr_helpers.config import get_config
from qrsr_helpers.models import build_discriminator, generator_from_config
from qrsr_helpers.srgan import gan_step_function
from qrsr_helpers.training import gan_content_loss

for folder, adv_weight in zip(map(Path, sys.argv[1::2]), map(float, sys.argv[2::2])):  # one import, many runs
    keras.backend.clear_session()
    config = get_config("smoke", n_res_blocks=2, filters=8)
    keras.utils.set_random_seed(3)
    generator = generator_from_config(config)
    discriminator = build_discriminator((32, 32, 3), filters=8, dense_units=16)
    if (folder / "g.weights.h5").is_file():  # the second backend starts from the first one's initial weights
        generator.load_weights(folder / "g.weights.h5")
        discriminator.load_weights(folder / "d.weights.h5")
    else:
        generator.save_weights(folder / "g.weights.h5")
        discriminator.save_weights(folder / "d.weights.h5")
    start = [keras.ops.convert_to_numpy(v) for v in generator.weights + discriminator.weights]
    g_opt = keras.optimizers.SGD(0.05, use_ema=True, ema_momentum=0.5)
    d_opt = keras.optimizers.SGD(0.05)
    content = gan_content_loss(config.replace(content_loss="pixel", pixel_loss="l1+binary"))[0]
    step = gan_step_function(generator, discriminator, content, g_opt, d_opt, adv_weight)
    batches = np.load(folder / "batches.npz")
    logs = [{k: float(v) for k, v in step(batches[f"lr{i}"], batches[f"hr{i}"]).items()} for i in range(2)]
    backend = keras.backend.backend()
    assert backend == "tensorflow" or "tensorflow" not in sys.modules
    ema = [keras.ops.convert_to_numpy(v) for v in g_opt._model_variables_moving_average]
    trained = [keras.ops.convert_to_numpy(v) for v in generator.weights + discriminator.weights]
    np.savez(folder / f"{backend}.npz", *trained, *ema)
    np.savez(folder / "start.npz", *start)
    (folder / f"{backend}.json").write_text(json.dumps(logs))
"""


ADV_WEIGHTS = (1e-3, 1.0)


def run_backend(backend: str, runs: list[tuple]) -> None:
    """Every (folder, adv_weight) run of one backend in one process (TensorFlow's import alone costs seconds)."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "JAX_PLATFORMS": "cpu"}
    arguments = [str(value) for run in runs for value in run]
    done = subprocess.run([sys.executable, "-c", STEP, *arguments], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"{backend}: {done.stderr[-3000:]}"


@pytest.fixture(scope="module")
def stepped(tmp_path_factory):
    """Two SRGAN steps per adversarial weight on each backend, from the same weights on the same batches."""
    rng = np.random.default_rng(5)
    runs = []
    for adv_weight in ADV_WEIGHTS:
        folder = tmp_path_factory.mktemp(f"adv{adv_weight}")
        hr = [(rng.random((4, 32, 32, 3)) > 0.5).astype("float32") for _ in range(2)]  # module-like HR
        lr = [h.reshape(4, 8, 4, 8, 4, 3).mean(axis=(2, 4)) + rng.normal(0, 0.05, (4, 8, 8, 3)).astype("float32")
              for h in hr]
        np.savez(folder / "batches.npz", lr0=lr[0], hr0=hr[0], lr1=lr[1], hr1=hr[1])
        runs.append((folder, adv_weight))
    run_backend("tensorflow", runs)
    run_backend("jax", runs)
    return dict(zip(ADV_WEIGHTS, (folder for folder, _ in runs)))


@pytest.mark.parametrize("adv_weight", ADV_WEIGHTS)
def test_tensorflow_and_jax_steps_agree(stepped, adv_weight):
    folder = stepped[adv_weight]
    tf_logs, jax_logs = (json.loads((folder / f"{b}.json").read_text()) for b in ("tensorflow", "jax"))
    for step, (a, b) in enumerate(zip(tf_logs, jax_logs)):
        assert a.keys() == b.keys() == {"g_loss", "d_loss", "content_loss", "adv_loss", "d_real_accuracy",
                                        "d_fake_accuracy"}
        for name in a:
            assert b[name] == pytest.approx(a[name], rel=1e-4, abs=1e-6), f"step {step + 1}: {name}"
    with np.load(folder / "tensorflow.npz") as tf_w, np.load(folder / "jax.npz") as jax_w, \
            np.load(folder / "start.npz") as start:
        assert len(tf_w.files) == len(jax_w.files) > len(start.files) > 0
        for name in tf_w.files:
            if name in start.files:  # the two updates agree to 1 % of their size, tensor by tensor
                tf_step, jax_step = tf_w[name] - start[name], jax_w[name] - start[name]
                assert np.linalg.norm(jax_step - tf_step) <= 0.01 * np.linalg.norm(tf_step) + 1e-6, name
            else:  # the generator's EMA
                np.testing.assert_allclose(jax_w[name], tf_w[name], rtol=1e-3, atol=5e-4, err_msg=name)


def test_weights_moved_so_agreement_means_something(stepped):
    """The two steps must change G and D by far more than the tolerance above."""
    from qrsr_helpers.config import get_config
    from qrsr_helpers.models import build_discriminator, generator_from_config

    generator = generator_from_config(get_config("smoke", n_res_blocks=2, filters=8))
    discriminator = build_discriminator((32, 32, 3), filters=8, dense_units=16)
    n_g = len(generator.weights)
    with np.load(stepped[1e-3] / "start.npz") as start, np.load(stepped[1e-3] / "jax.npz") as after:
        moved = [np.abs(after[f"arr_{i}"] - start[f"arr_{i}"]).max() for i in range(len(start.files))]
    assert len(moved) == n_g + len(discriminator.weights)
    g_moved, d_moved = moved[:n_g], moved[n_g:]
    assert max(g_moved) > 1e-3 and max(d_moved) > 1e-3
    assert sum(m > 1e-5 for m in g_moved) > len(generator.trainable_weights) // 2
