"""The GPU/TPU training paths, exercised on the CPU: a MirroredStrategy over two logical CPU devices
and mixed precision. Each run is a subprocess because both settings are process-wide: logical devices
must be configured before TensorFlow initialises its devices, and a dtype policy is global; doing
either here would change every other test's TensorFlow state. A few SRGAN steps on the smoke
profile's tiny models (32-pixel HR so the CPU work is trivial; tracing the graph is most of the time).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from qrsr_helpers.config import get_config

# Runs build_srgan + train_gan (the same calls as `qrsr train`) for two steps of a global batch of 4 and
# prints what the parent asserts on as one JSON line.
SCRIPT = r'''
import json, sys
mode, out = sys.argv[1], sys.argv[2]
import tensorflow as tf
if mode == "mirrored":  # before anything initialises TensorFlow's devices
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
import numpy as np
from qrsr_helpers import training
from qrsr_helpers.config import get_config
from qrsr_helpers.data.arrays import PairBatches
from qrsr_helpers.data.pairs import generate_pairs
from qrsr_helpers.models.registry import generator_from_config

if mode != "mirrored":
    keras.mixed_precision.set_global_policy(mode)
config = get_config("smoke", content_loss="pixel", hr_size=32, jit_compile=False)
pairs = generate_pairs(8, seed=3, hr_size=32, workers=1)
strategy = training.distribution_strategy()
with strategy.scope():
    gan = training.build_srgan(config, generator_from_config(config))
    replica_batch = keras.metrics.Mean(name="replica_batch")

step = gan.train_step
def train_step(data):  # the batch each replica's train_step sees
    logs = step(data)
    replica_batch.update_state(tf.cast(tf.shape(data[0])[0], "float32"))
    return logs
gan.train_step = train_step

g0 = [w.copy() for w in gan.generator.get_weights()]
d0 = [w.copy() for w in gan.discriminator.get_weights()]
history = training.train_gan(gan, PairBatches(pairs, 4, seed=1, steps_per_epoch=2), config, out, epochs=1)
lr = pairs.lr[:2].astype("float32") / 255.0
head = keras.Model(gan.generator.input, gan.generator.get_layer("head_conv").output)
copies = [strategy.experimental_local_results(v.value) for v in gan.generator.trainable_weights]
print("RESULT " + json.dumps(dict(
    strategy=type(strategy).__name__,
    replicas=strategy.num_replicas_in_sync,
    replica_batch=float(replica_batch.result()),
    copies_per_variable=sorted({len(c) for c in copies}),
    copies_agree=all(np.array_equal(np.asarray(c[0]), np.asarray(x)) for c in copies for x in c[1:]),
    history={k: [float(x) for x in v] for k, v in history.history.items()},
    g_changed=any(not np.array_equal(a, b) for a, b in zip(g0, gan.generator.get_weights())),
    d_changed=any(not np.array_equal(a, b) for a, b in zip(d0, gan.discriminator.get_weights())),
    g_finite=all(np.isfinite(w).all() for w in gan.generator.get_weights()),
    policy=keras.mixed_precision.global_policy().name,
    compute_dtype=gan.generator.get_layer("head_conv").compute_dtype,
    activation_dtype=keras.backend.standardize_dtype(head(lr).dtype),
    variable_dtypes=sorted({keras.backend.standardize_dtype(v.dtype)
                            for v in gan.generator.weights + gan.discriminator.weights}),
    sr_dtype=keras.backend.standardize_dtype(gan.generator(lr).dtype),
    logit_dtype=keras.backend.standardize_dtype(gan.discriminator(gan.generator(lr)).dtype),
    optimizers=[type(gan.g_optimizer).__name__, type(gan.d_optimizer).__name__],
)))
'''


def run_script(mode: str, tmp_path) -> dict:
    """Run SCRIPT in a fresh interpreter and return its RESULT line, or fail with its output."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode, str(tmp_path / "run")], capture_output=True,
                          text=True, env=env, timeout=300)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, f"{mode} run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return json.loads(lines[-1][len("RESULT "):])


def assert_trained(result: dict) -> None:
    for name in ("g_loss", "d_loss", "content_loss", "adv_loss"):
        assert all(math.isfinite(v) for v in result["history"][name]), (name, result["history"])
    assert result["g_changed"], "no generator weight changed"
    assert result["d_changed"], "no discriminator weight changed"
    assert result["g_finite"]


@pytest.mark.slow
def test_mirrored_strategy_over_two_logical_cpus_splits_the_batch_and_trains_both_networks(tmp_path):
    result = run_script("mirrored", tmp_path)
    # distribution_strategy() picks a MirroredStrategy over the two logical CPUs, as over two GPUs.
    assert result["strategy"] == "MirroredStrategy" and result["replicas"] == 2
    assert result["replica_batch"] == 4 / 2, "each replica must see half of the global batch of 4"
    assert_trained(result)
    # Every generator variable has one copy per device, and the copies stay identical after the
    # updates: the replicas' gradients were combined, not applied separately.
    assert result["copies_per_variable"] == [2] and result["copies_agree"]
    assert (tmp_path / "run" / "generator_gan.weights.h5").is_file()


@pytest.mark.slow
def test_mixed_bfloat16_computes_in_bfloat16_and_keeps_float32_variables_and_outputs(tmp_path):
    result = run_script("mixed_bfloat16", tmp_path)
    assert result["strategy"] == "_DefaultDistributionStrategy" and result["replica_batch"] == 4
    assert_trained(result)
    assert result["policy"] == "mixed_bfloat16"
    assert result["compute_dtype"] == "bfloat16" and result["activation_dtype"] == "bfloat16"
    assert result["variable_dtypes"] == ["float32"]
    # The generator's last conv and the discriminator's logit are float32 layers: losses, metrics and
    # the uint8 conversion never see bfloat16's 8-bit mantissa.
    assert result["sr_dtype"] == "float32" and result["logit_dtype"] == "float32"
    # bfloat16 has float32's exponent range: no loss scaling needed, plain optimizers.
    assert result["optimizers"] == ["Adam", "Adam"]


@pytest.mark.slow
def test_mixed_float16_wraps_both_gan_optimizers_in_loss_scaling(tmp_path):
    # float16 runs on the CPU too (emulated, slowly: why mixed_precision_policy picks float32 there).
    # Its 5-bit exponent underflows small gradients to zero unless the loss is scaled, which compile()
    # does for a model's single optimizer but not for the SRGAN's two: build_srgan must.
    result = run_script("mixed_float16", tmp_path)
    assert_trained(result)
    assert result["compute_dtype"] == "float16" and result["activation_dtype"] == "float16"
    assert result["variable_dtypes"] == ["float32"]
    assert result["sr_dtype"] == "float32" and result["logit_dtype"] == "float32"
    assert result["optimizers"] == ["LossScaleOptimizer", "LossScaleOptimizer"]


@pytest.mark.parametrize("devices, wanted, policy", [
    ({"GPU": 1}, "mixed_float16", "mixed_float16"),  # the gpu profile on a GPU
    ({"TPU": 8}, "mixed_float16", "mixed_bfloat16"),  # TPUs have no float16 units
    ({}, "mixed_float16", "float32"),  # CPU: float16 is emulated and slower
    ({"GPU": 1}, None, "float32"),  # the profile asks for none
])
def test_mixed_precision_policy_follows_the_devices(monkeypatch, devices, wanted, policy):
    import tensorflow as tf

    from qrsr_helpers.training import mixed_precision_policy

    monkeypatch.setattr(tf.config, "list_logical_devices", lambda kind=None: [kind] * devices.get(kind, 0))
    assert mixed_precision_policy(get_config("smoke", mixed_precision=wanted)) == policy
