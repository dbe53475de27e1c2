"""The ``photo`` style (issue 22): seeded, versions 1-10, any rotation, an LR that a box-filter sensor made from
the HR's geometry plus noise; and the older styles' bytes untouched by it."""

import hashlib

import cv2
import numpy as np
import pytest
import segno

from qrsr_helpers.config import get_config
from qrsr_helpers.data.degrade import degrade, degrade_photo
from qrsr_helpers.data.pairs import generate_pairs, make_pair
from qrsr_helpers.data.scenes import synthetic_photo
from qrsr_helpers.data.synth import QRCode, draw_photo_label, random_code
from qrsr_helpers.decode import decode


def test_same_seed_same_bytes_other_seed_other_pairs():
    first, again = generate_pairs(6, seed=4, degradation="photo"), generate_pairs(6, seed=4, degradation="photo")
    np.testing.assert_array_equal(first.hr, again.hr)
    np.testing.assert_array_equal(first.lr, again.lr)
    assert first.payloads == again.payloads and first.styles == ["photo"] * 6
    other = generate_pairs(6, seed=5, degradation="photo")
    assert not np.array_equal(first.hr, other.hr) and first.payloads != other.payloads


def test_shapes_dtypes_and_grey():
    pairs = generate_pairs(4, seed=1, degradation="photo")
    assert pairs.hr.shape == (4, 128, 128, 3) and pairs.lr.shape == (4, 32, 32, 3)
    assert pairs.hr.dtype == pairs.lr.dtype == np.uint8
    grey = generate_pairs(3, seed=1, degradation="photo", hr_size=64, scale=2, channels=1)
    assert grey.hr.shape == (3, 64, 64, 1) and grey.lr.shape == (3, 32, 32, 1)


def test_versions_one_to_ten_whatever_max_version():
    versions = [make_pair(7, i, "photo")[0].version for i in range(40)]  # max_version left at its default, 4
    assert min(versions) == 1 and max(versions) == 10 and len(set(versions)) >= 8
    assert {make_pair(7, i, "realistic")[0].version for i in range(20)} <= {1, 2, 3, 4}  # the others keep theirs


def _blank_draw(seed: int, module_px: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    code = random_code(np.random.default_rng(seed), 2)
    scene = np.zeros((400, 400, 3), np.float32)
    corners = draw_photo_label(scene, code, np.random.default_rng(seed), module_px, np.array([200.0, 200.0]))
    return scene, corners


def test_rotations_cover_the_whole_circle_and_the_label_lies_within_its_corners():
    angles = []
    for seed in range(40):
        scene, corners = _blank_draw(seed)
        top = corners[1] - corners[0]
        angles.append(np.degrees(np.arctan2(top[1], top[0])))
        x0, y0 = corners.min(axis=0)
        x1, y1 = corners.max(axis=0)
        drawn = np.argwhere(scene.max(axis=2) > 0)
        assert drawn.size and drawn[:, 1].min() >= x0 - 2 and drawn[:, 1].max() <= x1 + 2
        assert drawn[:, 0].min() >= y0 - 2 and drawn[:, 0].max() <= y1 + 2
    angles = np.array(angles)
    assert (np.abs(angles) > 45).sum() >= 10 and (np.abs(angles) > 135).any()
    assert {int(a // 90) for a in angles} == {-2, -1, 0, 1}  # every quadrant


def test_the_label_is_foreshortened_by_perspective_or_a_bottle():
    """Not a plain similarity: opposite sides of the outer square differ in length in most draws."""
    ratios = []
    for seed in range(30):
        _, c = _blank_draw(seed)
        sides = np.linalg.norm(np.roll(c, -1, axis=0) - c, axis=1)
        ratios.append(max(sides[0] / sides[2], sides[2] / sides[0], sides[1] / sides[3], sides[3] / sides[1]))
    assert np.median(ratios) > 1.02 and max(ratios) > 1.15


def test_the_sensor_integrates_light_over_each_pixel():
    """A 1-px checkerboard integrates to uniform grey (a point-sampling sensor would alias it to black/white),
    and the LR of a scene is its box-filtered HR plus noise: close to INTER_AREA, never equal to it."""
    checker = (np.indices((128, 128)).sum(axis=0) % 2 * 255).astype(np.uint8)[..., None].repeat(3, axis=2)
    for seed in range(5):
        lr = degrade_photo(checker, np.random.default_rng(seed)).astype(float)
        assert lr.shape == (32, 32, 3) and abs(lr.mean() - 127.5) < 10 and np.abs(lr - lr.mean()).max() < 45
    pairs = generate_pairs(8, seed=3, degradation="photo")
    for hr, lr in zip(pairs.hr, pairs.lr):
        boxed = cv2.resize(hr, (32, 32), interpolation=cv2.INTER_AREA).astype(float)
        residual = lr.astype(float) - boxed
        assert np.corrcoef(boxed.ravel(), lr.ravel().astype(float))[0, 1] > 0.8
        assert abs(residual.mean()) < 8 and residual.std() > 0.5  # same light, plus noise (and blur, JPEG)


def test_degrade_photo_is_seeded_and_needs_an_rng():
    hr = generate_pairs(1, seed=2, degradation="photo").hr[0]
    np.testing.assert_array_equal(degrade(hr, "photo", np.random.default_rng(1)),
                                  degrade(hr, "photo", np.random.default_rng(1)))
    with pytest.raises(ValueError, match="photo"):
        degrade(hr, "photo")


def test_photo_scenes_are_seeded_hold_a_readable_code_and_take_symbol_px():
    first, again = synthetic_photo(3, style="photo", symbol_px=40), synthetic_photo(3, style="photo", symbol_px=40)
    np.testing.assert_array_equal(first.image, again.image)
    assert first.image.shape == (480, 640, 3) and first.image.dtype == np.uint8
    assert first.module_px == pytest.approx(40 / (17 + 4 * first.version))
    read = sum(decode(synthetic_photo(s, style="photo", module_px=4.0).image, "zxing").matches(
        synthetic_photo(s, style="photo", module_px=4.0).payload) for s in range(8))
    assert read >= 6  # a large printed code reads as it is: the drawing keeps the code's geometry (no mirror)
    with pytest.raises(ValueError, match="not both"):
        synthetic_photo(1, style="photo", module_px=1.0, symbol_px=30)


def test_photo_is_a_training_degradation():
    assert get_config("smoke", train_mix=(("photo", 0.5), ("realistic", 0.5))).train_mix[0][0] == "photo"


# Computed with the code of commit a276bc4 (before the photo style): numpy 2.4.6, opencv 4.14.0, segno 1.6.6.
BASE = {"clean": "0c6258ace97cfe5b", "realistic": "a8a1d25d3ed1634c", "wild": "c2917350cdf2462f",
        "scene": "7154d95f206ff1c6"}


@pytest.mark.skipif((np.__version__, cv2.__version__, segno.__version__) != ("2.4.6", "4.14.0", "1.6.6"),
                    reason="the pinned hashes hold for the library versions they were computed with")
def test_older_styles_give_the_bytes_they_gave_before_the_photo_style():
    for style in ("clean", "realistic", "wild"):
        p = generate_pairs(6, seed=11, degradation=style, workers=1, max_version=4)
        digest = hashlib.sha256(p.hr.tobytes() + p.lr.tobytes() + "".join(p.payloads).encode()).hexdigest()[:16]
        assert digest == BASE[style], style
    a, b = synthetic_photo(100), synthetic_photo(101, module_px=1.0)
    digest = hashlib.sha256(a.image.tobytes() + b.image.tobytes() + (a.payload + b.payload).encode()).hexdigest()
    assert digest[:16] == BASE["scene"]


def test_a_code_matrix_is_drawn_not_mirrored():
    """The label's first module row lands along the corner 0 -> 1 edge: a finder pattern sits at corner 0."""
    matrix = np.zeros((21, 21), bool)
    matrix[:7, :7] = True  # one dark block at the top-left of the symbol only
    code = QRCode("x", 1, "L", matrix)
    scene = np.ones((300, 300, 3), np.float32)
    corners = draw_photo_label(scene, code, np.random.default_rng(0), 6.0, np.array([150.0, 150.0]))
    grey = scene.mean(axis=2)
    block = np.argwhere(grey <= np.percentile(grey, 1)).mean(axis=0)[::-1]  # (x, y) of the darkest pixels: the block
    distance = np.linalg.norm(corners - block, axis=1)
    assert distance.argmin() == 0


def test_shrunk_photos_are_the_photo_labels_box_filtered_with_no_jpeg_left():
    """``shrunk``: the real-photo benchmarks' procedure (a large photo downscaled by INTER_AREA). Its LR is the box
    filter of its HR, slightly blurred, with a trace of noise: far closer to INTER_AREA than the phone's LR."""
    shrunk, photo = (generate_pairs(12, seed=6, degradation=style, workers=1) for style in ("shrunk", "photo"))
    assert shrunk.styles == ["shrunk"] * 12 and shrunk.lr.shape == (12, 32, 32, 3)
    assert max(shrunk.versions) > 4  # versions 1-10, like photo's
    assert get_config("smoke", train_mix=(("shrunk", 1.0),)).train_mix == (("shrunk", 1.0),)

    def residual(pairs):  # LR minus the box filter of its HR, in grey levels
        return np.mean([np.abs(lr.astype(float) - cv2.resize(hr, (32, 32), interpolation=cv2.INTER_AREA)).mean()
                        for hr, lr in zip(pairs.hr, pairs.lr)])

    assert 0.3 < residual(shrunk) < residual(photo) / 2
    hr = shrunk.hr[0]
    np.testing.assert_array_equal(degrade(hr, "shrunk", np.random.default_rng(1)),
                                  degrade(hr, "shrunk", np.random.default_rng(1)))


def test_shrunk_scenes_draw_the_photo_label_through_another_camera():
    """The same draw as ``photo`` (code, place, geometry), another LR: the benchmarks pair the two styles by seed."""
    for seed in range(3):
        shrunk, photo = (synthetic_photo(seed, style=style, symbol_px=40) for style in ("shrunk", "photo"))
        assert shrunk.payload == photo.payload and shrunk.box == photo.box
        assert np.abs(shrunk.image.astype(int) - photo.image).mean() > 1
    with pytest.raises(ValueError, match="shrunk"):
        synthetic_photo(1, style="wild")


def test_module_px_narrows_the_photo_styles_pitch(monkeypatch):
    """``generate_pairs(module_px=...)`` (``train_bundled.py --dense-pairs``) draws every label at a pitch in that range
    of LR pixels per module; without it the style's own range, byte for byte as before."""
    from qrsr_helpers.data import synth

    pitches = []
    draw = synth.draw_photo_label

    def recording(scene, code, rng, pitch, *args):
        pitches.append(pitch)
        return draw(scene, code, rng, pitch, *args)

    monkeypatch.setattr(synth, "draw_photo_label", recording)
    dense = generate_pairs(16, seed=4, degradation="shrunk", module_px=(0.7, 1.2), workers=1)
    lr_px = np.array(pitches) / (4 * synth.SUPERSAMPLE)  # canvas pixels per module -> LR pixels per module
    assert lr_px.min() >= 0.7 and lr_px.max() <= 1.2 and lr_px.max() - lr_px.min() > 0.2
    pitches.clear()
    default = generate_pairs(16, seed=4, degradation="shrunk", workers=1)
    lr_px = np.array(pitches) / (4 * synth.SUPERSAMPLE)
    assert lr_px.min() < 0.7 or lr_px.max() > 1.2
    np.testing.assert_array_equal(default.hr, generate_pairs(16, seed=4, degradation="shrunk", workers=1,
                                                             module_px=synth.PHOTO_STYLES["shrunk"]).hr)
    assert not np.array_equal(default.hr, dense.hr)
    for style, module_px in (("realistic", (0.7, 1.2)), ("shrunk", (1.2, 0.7)), ("shrunk", (0.0, 1.0))):
        with pytest.raises(ValueError, match="module_px"):  # ignored or empty, it would quietly train on other data
            generate_pairs(2, seed=4, degradation=style, module_px=module_px, workers=1)
