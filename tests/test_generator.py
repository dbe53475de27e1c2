"""The SRResNet generator: shapes, parameter and MAC counts derived by hand, the pixel shuffle, ICNR,
and the bundled weights' layer-name contract."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from qrsr_helpers.models import build_generator, conv_macs
from qrsr_helpers.models.generator import ICNR, DepthToSpace
from qrsr_helpers.models.registry import bundled_path

MODES = ("nearest", "pixel_shuffle")


def hand_param_count(blocks: int, f: int, c: int, n_up: int, mode: str) -> int:
    """Parameters read off the layer shapes. Conv k x k, c_in -> c_out: k*k*c_in*c_out + c_out (bias);
    BatchNorm: 4 per channel (gamma, beta, moving mean, moving variance); PReLU shared over H and W:
    one slope per channel."""
    head = 9 * 9 * c * f + f + f  # 9x9 conv + PReLU
    block = 2 * (3 * 3 * f * f + f) + 2 * 4 * f + f  # conv-BN-PReLU-conv-BN
    trunk = 3 * 3 * f * f + f + 4 * f  # conv + BN before the global skip
    if mode == "nearest":  # conv to 256 channels, upsample, PReLU(256); the output conv reads 256
        ups = [3 * 3 * (f if i == 0 else 256) * 256 + 256 + 256 for i in range(n_up)]
        out = 9 * 9 * 256 * c + c
    else:  # conv to 4f channels, shuffle back to f, PReLU(f); the output conv reads f
        ups = [3 * 3 * f * 4 * f + 4 * f + f for _ in range(n_up)]
        out = 9 * 9 * f * c + c
    return head + blocks * block + trunk + sum(ups) + out


def hand_macs(blocks: int, f: int, c: int, n_up: int, mode: str, h: int, w: int) -> int:
    """Convolution MACs for one h x w input: output pixels x k*k*c_in*c_out for every conv."""
    trunk = h * w * (9 * 9 * c * f + (2 * blocks + 1) * 3 * 3 * f * f)
    if mode == "nearest":  # conv i runs at the input size of block i (before its upsampling)
        ups = sum(h * w * 4**i * 3 * 3 * (f if i == 0 else 256) * 256 for i in range(n_up))
        out = h * w * 4**n_up * 9 * 9 * 256 * c
    else:
        ups = sum(h * w * 4**i * 3 * 3 * f * 4 * f for i in range(n_up))
        out = h * w * 4**n_up * 9 * 9 * f * c
    return trunk + ups + out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n_up", [1, 2, 3])
def test_fully_convolutional_any_size(mode, n_up):
    generator = build_generator(n_res_blocks=1, n_upscale=n_up, upsampling=mode, channels=3, filters=8)
    for h, w in [(5, 7), (16, 16), (33, 12)]:
        sr = generator(np.random.rand(2, h, w, 3).astype(np.float32))
        assert tuple(sr.shape) == (2, h * 2**n_up, w * 2**n_up, 3)
        assert sr.dtype == "float32"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("blocks, f, c, n_up", [(16, 64, 3, 2), (6, 32, 3, 2), (2, 8, 1, 1), (0, 16, 1, 3)])
def test_parameter_count_matches_hand_count(mode, blocks, f, c, n_up):
    generator = build_generator(n_res_blocks=blocks, n_upscale=n_up, upsampling=mode, channels=c, filters=f)
    assert generator.count_params() == hand_param_count(blocks, f, c, n_up, mode)


def test_tutorial_sizes():
    """16 x 64 RGB, x4: the numbers the README and the notebooks quote."""
    assert hand_param_count(16, 64, 3, 2, "pixel_shuffle") == 1_554_883
    assert hand_param_count(16, 64, 3, 2, "nearest") == 2_044_291


@pytest.mark.parametrize("mode", MODES)
def test_conv_macs_match_hand_count(mode):
    generator = build_generator(n_res_blocks=3, n_upscale=2, upsampling=mode, channels=3, filters=16)
    assert conv_macs(generator, (32, 24)) == hand_macs(3, 16, 3, 2, mode, 32, 24)


def test_pixel_shuffle_is_cheaper_than_nearest():
    """The paper's upsampling keeps 64 channels where the tutorial's carries 256 (at 2x and 4x size)."""
    ps, nn = (hand_macs(16, 64, 3, 2, m, 32, 32) for m in ("pixel_shuffle", "nearest"))
    assert ps < nn / 2


@pytest.mark.parametrize("block", [2, 3])
def test_depth_to_space_matches_tensorflow(block):
    x = np.random.default_rng(0).random((2, 5, 6, 3 * block * block), np.float32)
    shuffle = DepthToSpace(block)
    np.testing.assert_array_equal(np.asarray(shuffle(x)), tf.nn.depth_to_space(x, block).numpy())
    assert shuffle.compute_output_shape((None, 5, None, 3 * block * block)) == (None, 5 * block, None, 3)
    assert DepthToSpace.from_config(shuffle.get_config()).block_size == block


def test_icnr_pixel_shuffle_starts_as_nearest_upsampling():
    """Output channel c at every sub-pixel comes from the same kernel, so shuffling the conv's output
    equals nearest-neighbour upsampling of its first group of C channels (no checkerboard)."""
    c = 5
    x = np.random.default_rng(1).random((1, 6, 7, 4), np.float32)
    conv = layers.Conv2D(4 * c, 3, padding="same", kernel_initializer=ICNR(2, seed=3))
    pre = np.asarray(conv(x))
    shuffled = np.asarray(DepthToSpace(2)(pre))
    nearest = pre[..., :c].repeat(2, axis=1).repeat(2, axis=2)
    np.testing.assert_allclose(shuffled, nearest, rtol=1e-6, atol=1e-6)
    for k in range(1, 4):  # every pre-shuffle group is the same
        np.testing.assert_allclose(pre[..., k * c:(k + 1) * c], pre[..., :c], rtol=1e-6, atol=1e-6)


def test_generator_upsampling_is_blocky_at_initialisation():
    """Inside the built generator too: each 2x2 block of the first shuffle's output is constant."""
    generator = build_generator(n_res_blocks=1, upsampling="pixel_shuffle", filters=8)
    probe = keras.Model(generator.input, generator.get_layer("up1_shuffle").output)
    out = np.asarray(probe(np.random.default_rng(2).random((1, 9, 9, 3), np.float32)))
    for dy, dx in [(0, 1), (1, 0), (1, 1)]:
        np.testing.assert_allclose(out[:, dy::2, dx::2], out[:, ::2, ::2], rtol=1e-5, atol=1e-5)


def test_bundled_weights_load_by_layer_name():
    """The shipped file must keep loading: its layer names are part of the generator's contract."""
    generator = build_generator(n_res_blocks=16, n_upscale=2, upsampling="pixel_shuffle", filters=64)
    before = generator.get_layer("sr").kernel.numpy().copy()
    generator.load_weights(bundled_path("srresnet"))
    assert not np.allclose(generator.get_layer("sr").kernel.numpy(), before)
    lr = np.full((1, 8, 8, 3), 0.5, np.float32)  # a flat grey patch stays roughly flat grey
    assert abs(float(np.mean(generator(lr))) - 0.5) < 0.1


@pytest.mark.parametrize("kwargs, word", [(dict(upsampling="bicubic"), "bicubic"), (dict(n_upscale=0), "n_upscale=0"),
                                          (dict(n_res_blocks=-1), "n_res_blocks=-1")])
def test_bad_arguments_name_the_value(kwargs, word):
    with pytest.raises(ValueError, match=word):
        build_generator(**kwargs)
