"""The SRGAN discriminator: shapes, the tutorial's ~38 M parameters counted by hand, logits out."""

import math

import keras
import numpy as np
import pytest

from qrsr_helpers.models import build_discriminator, conv_macs
from qrsr_helpers.models.discriminator import _BLOCKS


def hand_param_count(h: int, w: int, c: int, f: int, dense: int = 1024) -> int:
    """conv3x3 (c -> f) + 7 x [conv3x3 + BatchNorm (4 per channel)] + Dense(flat -> 1024) + Dense(1024 -> 1).
    Four stride-2 convs ('same' padding) leave ceil(h/16) x ceil(w/16) x 8f features to flatten."""
    total, c_in = 3 * 3 * c * f + f, f
    for mult, _ in _BLOCKS:
        total += 3 * 3 * c_in * f * mult + f * mult + 4 * f * mult
        c_in = f * mult
    flat = math.ceil(h / 16) * math.ceil(w / 16) * 8 * f
    return total + flat * dense + dense + dense + 1


def test_block_plan_is_the_papers():
    """(filters multiplier, stride): k3n64s2, k3n128s1, k3n128s2, k3n256s1, k3n256s2, k3n512s1, k3n512s2."""
    assert _BLOCKS == ((1, 2), (2, 1), (2, 2), (4, 1), (4, 2), (8, 1), (8, 2))


def test_tutorial_discriminator_has_38m_parameters():
    discriminator = build_discriminator((128, 128, 3))
    assert discriminator.count_params() == hand_param_count(128, 128, 3, 64) == 38_249_281
    # 88 % of them sit in one layer: the dense layer on the flattened 8 x 8 x 512 map.
    assert discriminator.get_layer("dense").count_params() == 8 * 8 * 512 * 1024 + 1024


@pytest.mark.parametrize("shape, f", [((32, 32, 1), 8), ((48, 80, 3), 16), ((50, 50, 3), 8)])
def test_parameter_count_matches_hand_count(shape, f):
    discriminator = build_discriminator(shape, filters=f, dense_units=32)
    assert discriminator.count_params() == hand_param_count(*shape, f, dense=32)


def test_feature_map_shapes_halve_four_times():
    discriminator = build_discriminator((128, 128, 3), filters=8)
    sizes = [discriminator.get_layer(f"lrelu{i}").output.shape[1:] for i in range(8)]
    assert sizes == [(128, 128, 8), (64, 64, 8), (64, 64, 16), (32, 32, 16), (32, 32, 32), (16, 16, 32),
                     (16, 16, 64), (8, 8, 64)]


def test_outputs_one_float32_logit_per_image():
    discriminator = build_discriminator((64, 64, 3), filters=8)
    out = discriminator(np.random.default_rng(0).random((5, 64, 64, 3), np.float32), training=False)
    assert tuple(out.shape) == (5, 1) and out.dtype == "float32"
    assert discriminator.get_layer("logit").activation is keras.activations.linear


def test_output_is_unbounded_logit_not_probability():
    """A sigmoid output could never go below 0 or above 1; a logit follows its bias anywhere."""
    discriminator = build_discriminator((32, 32, 3), filters=8)
    logit = discriminator.get_layer("logit")
    x = np.random.default_rng(1).random((3, 32, 32, 3), np.float32)
    for bias in (-7.0, 9.0):
        logit.bias.assign([bias])
        logit.kernel.assign(np.zeros(logit.kernel.shape, np.float32))
        np.testing.assert_allclose(np.asarray(discriminator(x, training=False)), bias, rtol=1e-6)


def test_input_pixels_are_centred_to_minus_one_one():
    discriminator = build_discriminator((32, 32, 1), filters=8)
    probe = keras.Model(discriminator.input, discriminator.get_layer("to_pm1").output)
    image = np.zeros((1, 32, 32, 1), np.float32)
    image[0, 0, :3, 0] = [0.0, 0.5, 1.0]
    out = np.asarray(probe(image))
    np.testing.assert_allclose(out[0, 0, :3, 0], [-1.0, 0.0, 1.0])


def test_conv_and_dense_macs():
    """Per image at 128 x 128: conv MACs (output pixels x 9 x c_in x c_out) plus the dense layers."""
    f, size, c_in, total = 64, 128, 3, 0
    total += size * size * 9 * c_in * f
    c_in = f
    for mult, stride in _BLOCKS:
        size //= stride
        total += size * size * 9 * c_in * f * mult
        c_in = f * mult
    total += size * size * c_in * 1024 + 1024
    assert conv_macs(build_discriminator((128, 128, 3)), (128, 128)) == total
