"""tf.data: batches in [0, 1], repetition, seeding, and aligned augmented pairs."""

import cv2
import numpy as np
import pytest
import tensorflow as tf

from qrsr_helpers.config import get_config
from qrsr_helpers.data.pairs import generate_pairs
from qrsr_helpers.data.pipeline import make_dataset


@pytest.fixture(scope="module")
def pairs():
    return generate_pairs(14, seed=21, degradation="realistic")


def test_training_batches_are_float_in_range_shuffled_and_repeated(pairs):
    config = get_config("smoke", batch_size=4)
    batches = list(make_dataset(pairs, config, training=True).take(8))  # 32 pairs from 14: repeated
    for lr, hr in batches:
        assert lr.shape == (4, 32, 32, 3) and hr.shape == (4, 128, 128, 3)
        assert lr.dtype.name == hr.dtype.name == "float32"
        assert 0.0 <= float(np.min(lr)) and float(np.max(hr)) <= 1.0
    seen = np.concatenate([np.asarray(hr) for _, hr in batches])
    stored = {h.tobytes() for h in pairs.hr.astype(np.float32) / 255.0}
    assert {h.tobytes() for h in seen} == stored  # every pair comes back, nothing else
    assert seen[:14].tobytes() != (pairs.hr.astype(np.float32) / 255.0).tobytes()  # shuffled
    again = list(make_dataset(pairs, config, training=True).take(8))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(batches, again))  # same seed, same order


def test_validation_batches_are_the_stored_pairs_in_order(pairs):
    config = get_config("smoke", batch_size=4)
    batches = list(make_dataset(pairs, config, training=False))
    assert [len(lr) for lr, _ in batches] == [4, 4, 4, 2]
    lr = np.concatenate([np.asarray(lr) for lr, _ in batches])
    np.testing.assert_array_equal(np.round(lr * 255).astype(np.uint8), pairs.lr)


def test_augmented_pairs_stay_aligned(pairs):
    config = get_config("smoke", batch_size=4, augment=True)
    batches = list(make_dataset(pairs, config, training=True).take(3))
    stored = {h.tobytes() for h in pairs.hr}
    for lr, hr in batches:
        hr8, lr8 = (np.round(np.asarray(x) * 255).astype(np.uint8) for x in (hr, lr))
        assert not any(h.tobytes() in stored for h in hr8)  # augmented
        # LR is the area downscale of the *augmented* HR: the pair is aligned pixel for pixel
        expected = np.stack([cv2.resize(h, (32, 32), interpolation=cv2.INTER_AREA) for h in hr8])
        np.testing.assert_array_equal(lr8, expected)
    again = list(make_dataset(pairs, config, training=True).take(3))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(batches, again))


def test_shape_mismatch_and_tiny_sets_are_refused(pairs):
    with pytest.raises(ValueError, match=r"HR shape \(128, 128, 3\), the config wants \(64, 64, 3\)"):
        make_dataset(pairs, get_config("smoke", hr_size=64), training=False)
    with pytest.raises(ValueError, match="14 training pairs cannot fill one batch of 16"):
        make_dataset(pairs, get_config("smoke", batch_size=16), training=True)


def test_random_crops_stay_aligned_and_vary():
    """An LR crop and its HR crop show the same place: for clean pairs the LR crop is the HR crop's area
    downscale, exactly as the whole images are."""
    config = get_config("smoke", crop_size=8, batch_size=4)
    pairs = generate_pairs(8, seed=5, degradation="clean")
    lr, hr = next(iter(make_dataset(pairs, config, training=True)))
    assert lr.shape == (4, 8, 8, 3) and hr.shape == (4, 32, 32, 3)
    area = tf.image.resize(hr * 255.0, (8, 8), method="area")
    np.testing.assert_allclose(lr.numpy() * 255.0, np.round(area.numpy()), atol=1.01)
    batches = [b[0].numpy() for b in make_dataset(pairs, config, training=True).take(6)]
    assert len({b.tobytes() for b in batches}) == 6  # different windows, different images
