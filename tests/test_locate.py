"""locate: the code's region in a photo, by zxing's detector or contrast blobs."""

import numpy as np
import pytest

from qrsr_helpers.data.scenes import scene_background, synthetic_photo
from qrsr_helpers.locate import Region, _plausible, locate


@pytest.mark.parametrize("seed, module_px", [(11, 1.3), (12, 1.6), (13, 2.5)])
def test_locate_finds_the_code_in_a_photo(seed, module_px):
    photo = synthetic_photo(seed, module_px=module_px)
    region = locate(photo.image)
    assert region is not None
    x0, y0, x1, y1 = region.box
    cx, cy = (photo.box[0] + photo.box[2]) / 2, (photo.box[1] + photo.box[3]) / 2
    assert x0 <= cx <= x1 and y0 <= cy <= y1
    assert region.width * region.height < 0.1 * photo.image.shape[0] * photo.image.shape[1]


def test_locate_finds_nothing_in_a_scene_without_code():
    scene = scene_background(np.random.default_rng(3), 480, 640)
    assert locate(np.round(scene * 255).astype(np.uint8)) is None


def test_locate_prefers_a_plausible_square_over_a_sliver():

    assert not _plausible(Region((0, 0, 18, 90), "zxing"))
    assert _plausible(Region((0, 0, 40, 44), "zxing"))
