"""HR -> LR: the tutorial's INTER_AREA, and the seeded realistic camera chain."""

import cv2
import numpy as np
import pytest

from qrsr_helpers.data.degrade import degrade
from qrsr_helpers.data.pairs import generate_pairs


@pytest.fixture(scope="module")
def hr():
    return generate_pairs(4, seed=3, degradation="realistic").hr


def test_clean_is_the_tutorials_inter_area(hr):
    lr = degrade(hr[0], "clean", scale=4)
    np.testing.assert_array_equal(lr, cv2.resize(hr[0], (32, 32), interpolation=cv2.INTER_AREA))
    grey = degrade(hr[0, :, :, :1], "clean", scale=2)
    assert grey.shape == (64, 64, 1) and grey.dtype == np.uint8


def test_realistic_is_seeded(hr):
    first = degrade(hr[0], "realistic", np.random.default_rng(1))
    again = degrade(hr[0], "realistic", np.random.default_rng(1))
    np.testing.assert_array_equal(first, again)
    others = [degrade(hr[0], "realistic", np.random.default_rng(seed)) for seed in range(2, 8)]
    assert all(not np.array_equal(first, other) for other in others)


def test_realistic_keeps_shape_and_stays_close_to_the_scene(hr):
    for image in hr:
        for channels in (3, 1):
            lr = degrade(image[..., :channels], "realistic", np.random.default_rng(0))
            assert lr.shape == (32, 32, channels) and lr.dtype == np.uint8
        clean = degrade(image, "clean").astype(float)
        lr = degrade(image, "realistic", np.random.default_rng(0)).astype(float)
        # blur, noise and JPEG change pixels, not the scene: far closer than an unrelated image
        assert np.abs(lr - clean).mean() < 0.5 * np.abs(lr - clean[::-1, ::-1]).mean()


def test_bad_kind_and_missing_rng_are_refused(hr):
    with pytest.raises(ValueError, match="kind='blurry'"):
        degrade(hr[0], "blurry")
    with pytest.raises(ValueError, match="needs a seeded rng"):
        degrade(hr[0], "realistic")
