"""Content losses: pixels (L1, MSE, BinarisedL1) and VGG feature MSE, on known values."""

import warnings

import numpy as np
import pytest

from qrsr_helpers import losses
from qrsr_helpers.models import build_vgg


def quiet_build(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_vgg(*args, **kwargs)


def test_pixel_losses_on_known_values():
    hr = np.array([[0.0, 1.0, 0.5, 0.5]], np.float32)
    sr = np.array([[0.5, 0.0, 0.5, 0.7]], np.float32)
    assert float(losses.pixel_loss("l1")(hr, sr)) == pytest.approx((0.5 + 1.0 + 0.0 + 0.2) / 4)
    assert float(losses.pixel_loss("mse")(hr, sr)) == pytest.approx((0.25 + 1.0 + 0.0 + 0.04) / 4)
    with pytest.raises(ValueError, match="'l3'"):
        losses.pixel_loss("l3")


def test_binarised_l1_charges_only_pixels_on_the_wrong_side_of_the_local_threshold():
    hr = np.zeros((1, 8, 8, 3), np.float32)
    hr[:, :, 4:] = 1.0  # dark left half, light right half: local mean 0.5 near the edge
    loss = losses.pixel_loss("l1+binary")
    assert float(loss(hr, hr)) == pytest.approx(0.0)
    l1 = losses.pixel_loss("l1")
    grey = np.full_like(hr, 0.5)  # every pixel on the threshold: L1 0.5 plus the whole margin (0.08)
    assert float(loss(hr, grey)) == pytest.approx(float(l1(hr, grey)) + 0.08, abs=1e-6)
    right_side = np.where(hr > 0.5, 0.8, 0.2).astype(np.float32)  # well past the threshold: L1 alone
    assert float(loss(hr, right_side)) == pytest.approx(float(l1(hr, right_side)), abs=1e-6)
    wrong_side = 1.0 - right_side  # same L1 distance per pixel... and more, every pixel inverted
    assert float(loss(hr, wrong_side)) > float(l1(hr, wrong_side))


def _box_mean(image: np.ndarray, window: int) -> np.ndarray:
    """Mean over the ``window`` x ``window`` neighbours inside the image (what "same" average pooling does)."""
    import cv2

    sums = cv2.boxFilter(image, -1, (window, window), normalize=False, borderType=cv2.BORDER_CONSTANT)
    counts = cv2.boxFilter(np.ones_like(image), -1, (window, window), normalize=False,
                           borderType=cv2.BORDER_CONSTANT)
    return sums / counts


def test_binarised_l1_pixel_by_pixel_against_its_formula():
    """Every pixel of the loss with its defaults (window 17, confident 0.12, margin 0.08) against a NumPy
    computation of its docstring: L1 over channels plus the hinge where HR is confidently dark or light."""
    rng = np.random.default_rng(5)
    hr = np.clip((rng.random((2, 40, 40, 3)) > 0.5) * 0.9 + 0.05 + rng.normal(0, 0.05, (2, 40, 40, 3)), 0, 1)
    sr = np.clip(hr + rng.normal(0, 0.25, hr.shape), 0, 1)
    hr, sr = hr.astype(np.float32), sr.astype(np.float32)
    loss = losses.BinarisedL1(weight=2.0)
    grey_hr, grey_sr = hr.mean(-1), sr.mean(-1)
    local = np.stack([_box_mean(g, 17) for g in grey_hr])
    side = grey_hr - local
    hinge = np.maximum(0.08 - np.sign(side) * (grey_sr - local), 0) * (np.abs(side) > 0.12)
    expected = np.abs(hr - sr).mean(-1) + 2.0 * hinge
    assert hinge.mean() > 0.01 and (hinge == 0).mean() > 0.3  # both cases occur in this image
    np.testing.assert_allclose(np.asarray(loss.call(hr, sr)), expected, atol=2e-5)
    assert float(loss(hr, sr)) == pytest.approx(float(expected.mean()), abs=2e-5)
    assert losses.BinarisedL1.from_config(loss.get_config()).get_config() == loss.get_config()
    assert losses.pixel_loss("l1+binary").name == "l1_binary"  # the name the training history logs
    half = np.asarray(loss.call(hr.astype(np.float16), sr.astype(np.float16)))  # mixed precision's outputs
    assert half.dtype == np.float32  # computed in float32 whatever the inputs are
    np.testing.assert_allclose(half, np.asarray(loss.call(hr.astype(np.float16).astype(np.float32),
                                                          sr.astype(np.float16).astype(np.float32))), atol=1e-6)


def test_vgg_content_loss_is_feature_mse():
    double = lambda x: 2.0 * x  # a stand-in feature extractor with known features
    hr = np.zeros((1, 2, 2, 1), np.float32)
    sr = np.full((1, 2, 2, 1), 0.5, np.float32)
    assert float(losses.vgg_content_loss(double, hr, sr)) == pytest.approx(1.0)  # (2 * 0.5) ** 2
    big = np.full((1, 2, 2, 1), 200.0, np.float16)  # float16 features: their square overflows float16
    assert float(losses.vgg_content_loss(double, big, np.zeros_like(big))) == pytest.approx(160_000.0)
    assert float(losses.vgg_content_loss(double, hr, hr)) == 0.0


def test_vgg_content_loss_with_the_real_network():
    vgg = quiet_build("block2_conv2", weights=None)
    hr = np.random.default_rng(4).random((1, 24, 24, 3), np.float32)
    expected = np.mean((np.asarray(vgg(hr)) - np.asarray(vgg(1.0 - hr))) ** 2)
    assert float(losses.vgg_content_loss(vgg, hr, 1.0 - hr)) == pytest.approx(expected, rel=1e-5)
