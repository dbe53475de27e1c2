"""The tutorial's ImageDataGenerator augmentation in TensorFlow ops: geometry, units, seeding."""

import numpy as np
import pytest

from qrsr_helpers.data import augment
from qrsr_helpers.data.augment import TUTORIAL, Augmentation


def dot(row: int, col: int, size: int = 9) -> np.ndarray:
    image = np.full((size, size, 1), 255, np.uint8)
    image[row, col] = 0
    return image


def darkest(image) -> tuple[int, int]:
    image = np.asarray(image)[..., 0]
    return tuple(int(i) for i in np.unravel_index(np.argmin(image), image.shape))


def test_no_parameters_change_nothing():
    images = np.random.default_rng(0).integers(0, 256, (2, 16, 12, 3), dtype=np.uint8)
    np.testing.assert_array_equal(augment.transform(images), images)


def test_rotation_turns_clockwise_about_the_centre():
    assert darkest(augment.transform(dot(0, 4), rotation=90)) == (4, 8)  # top centre -> right centre
    assert darkest(augment.transform(dot(0, 4), rotation=-90)) == (4, 0)
    np.testing.assert_array_equal(augment.transform(dot(1, 2), rotation=360), dot(1, 2))


def test_flip_mirrors_left_right():
    image = np.random.default_rng(1).integers(0, 256, (10, 14, 3), dtype=np.uint8)
    np.testing.assert_array_equal(augment.transform(image, flip=True), image[:, ::-1])


def test_zoom_above_one_zooms_out():
    assert darkest(augment.transform(dot(0, 4), zoom=2.0, fill_mode="constant")) == (2, 4)  # halfway to the centre
    assert darkest(augment.transform(dot(2, 4), zoom=0.5, fill_mode="constant")) == (0, 4)  # zoom in: twice as far


def test_shear_is_in_degrees_like_image_data_generator():
    image = np.full((64, 64, 1), 255, np.uint8)
    image[20] = 0  # a dark horizontal line; the shear tilts it, pivoting on the centre column

    def line_row(sheared, col):
        return int(np.argmin(np.asarray(sheared)[:, col, 0]))
    sheared = augment.transform(image, shear=20, fill_mode="constant")
    expected = 2 * np.sin(np.deg2rad(20)) * (58 - 31.5)  # rows between columns 5 and 58
    assert abs((line_row(sheared, 58) - line_row(sheared, 5)) - expected) <= 1
    tutorial = augment.transform(image, shear=TUTORIAL.shear)  # shear_range=0.2 is 0.2 degrees: no visible tilt
    assert line_row(tutorial, 5) == line_row(tutorial, 58) == 20


def test_brightness_multiplies_and_clips():
    image = np.full((4, 4, 3), 100, np.uint8)
    np.testing.assert_array_equal(augment.transform(image, brightness=0.5), np.full((4, 4, 3), 50))
    np.testing.assert_array_equal(augment.transform(image, brightness=3.0), np.full((4, 4, 3), 255))


def test_float_input_stays_float_in_range():
    image = np.random.default_rng(2).random((2, 8, 8, 1)).astype(np.float32)
    out = np.asarray(augment.transform(image, rotation=[10.0, -10.0], brightness=[1.5, 0.5]))
    assert out.dtype == np.float32 and out.shape == image.shape and 0 <= out.min() and out.max() <= 1


def test_random_augment_is_seeded_and_per_image():
    images = np.repeat(dot(3, 5, 32), 8, axis=2)[None].repeat(6, axis=0)
    first, again = augment.random_augment(images, (1, 2)), augment.random_augment(images, (1, 2))
    other = augment.random_augment(images, (1, 3))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    first = np.asarray(first)
    assert len({first[i].tobytes() for i in range(6)}) == 6  # every image gets its own parameters


def test_sampled_parameters_cover_the_tutorial_ranges():
    params = augment.sample_parameters(4000, (0, 1))
    rotation, shear, brightness = (np.asarray(params[k]) for k in ("rotation", "shear", "brightness"))
    assert -40 <= rotation.min() < -38 and 38 < rotation.max() <= 40
    assert np.abs(shear).max() <= 0.2
    assert 0.5 <= brightness.min() < 0.52 and 1.48 < brightness.max() <= 1.5
    rows, cols = (np.asarray(z) for z in params["zoom"])
    assert 0.8 <= rows.min() and cols.max() <= 1.2 and np.corrcoef(rows, cols)[0, 1] < 0.1  # independent
    assert 0.45 < np.asarray(params["flip"]).mean() < 0.55
    no_flip = augment.sample_parameters(100, (0, 1), Augmentation(horizontal_flip=False))
    assert not np.asarray(no_flip["flip"]).any()


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="fill_mode='mirror'"):
        Augmentation(fill_mode="mirror")
    with pytest.raises(ValueError, match="brightness"):
        Augmentation(brightness=(1.5, 0.5))
    with pytest.raises(ValueError, match="HWC or NHWC"):
        augment.transform(np.zeros((4, 4)))
