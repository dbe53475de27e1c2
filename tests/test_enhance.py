"""io (files, streaming PNG), inference (tiling) and locate: in-process, with a nearest-neighbour "generator"
whose right answer is known exactly, and synthetic photos whose code position is known."""

import cv2
import keras
import numpy as np
import pytest

from qrsr_helpers.data.scenes import scene_background, synthetic_photo
from qrsr_helpers.inference import enhance
from qrsr_helpers.io import ImageError, read_image, to_rgb, write_image, write_png_strips
from qrsr_helpers.locate import locate


@pytest.fixture(scope="module")
def nearest_x4():
    """A model whose exact output is known: nearest-neighbour x4. Tiling must reproduce it bit for bit."""
    return keras.Sequential([keras.Input((None, None, 3)), keras.layers.UpSampling2D(4)])


def _nearest(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    return cv2.resize(image, (w * 4, h * 4), interpolation=cv2.INTER_NEAREST)


RNG = np.random.default_rng(7)
GRAY = RNG.integers(0, 256, (23, 31), dtype=np.uint8)
RGB = RNG.integers(0, 256, (23, 31, 3), dtype=np.uint8)
RGBA = RNG.integers(1, 256, (23, 31, 4), dtype=np.uint8)  # no alpha 0: lossless WebP may drop colour under it


def _bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_RGB2BGR if image.shape[2] == 3 else cv2.COLOR_RGBA2BGRA)


@pytest.mark.parametrize("name, image", [("gray.png", GRAY), ("rgb.png", RGB), ("rgba.png", RGBA), ("rgb.bmp", RGB),
                                         ("rgba.webp", RGBA), ("rgb.tiff", RGB)])
def test_read_image_lossless_formats(tmp_path, name, image):
    path = tmp_path / name
    params = [cv2.IMWRITE_WEBP_QUALITY, 101] if name.endswith(".webp") else []  # 101 = lossless
    assert cv2.imwrite(str(path), _bgr(image), params)
    np.testing.assert_array_equal(read_image(path), image)


def test_read_image_16_bit_and_jpeg(tmp_path):
    noise = RNG.integers(-128, 129, RGB.shape)  # 16-bit values that round to RGB
    wide = np.clip(RGB.astype(np.int32) * 257 + noise, 0, 65535).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), _bgr(wide))
    np.testing.assert_array_equal(read_image(tmp_path / "deep.png"), RGB)
    red_blue = np.zeros((64, 64, 3), np.uint8)
    red_blue[:, :32], red_blue[:, 32:] = (200, 30, 30), (30, 30, 200)  # swapped channels would show at once
    cv2.imwrite(str(tmp_path / "photo.jpg"), _bgr(red_blue), [cv2.IMWRITE_JPEG_QUALITY, 95])
    back = read_image(tmp_path / "photo.jpg")
    assert back.shape == red_blue.shape
    assert np.abs(back[[32, 32], [8, 56]].astype(int) - red_blue[[32, 32], [8, 56]]).max() < 12


def test_read_image_errors_name_the_file(tmp_path):
    (tmp_path / "notes.png").write_text("not an image")
    (tmp_path / "empty.png").write_bytes(b"")
    cv2.imwrite(str(tmp_path / "good.png"), RGB)
    (tmp_path / "cut.png").write_bytes((tmp_path / "good.png").read_bytes()[:200])
    for name, reason in [("notes.png", "not a readable image"), ("empty.png", "empty file"),
                         ("cut.png", "not a readable image"), ("missing.png", "no such file"), (".", "is a folder")]:
        with pytest.raises(ImageError, match=reason) as error:
            read_image(tmp_path / name)
        assert str(error.value).startswith(str(tmp_path / name))


def test_write_image_is_atomic_and_leaves_the_array_alone(tmp_path):
    image = RGBA.copy()
    write_image(tmp_path / "out" / "a.png", image)
    np.testing.assert_array_equal(image, RGBA)  # the in-place channel swap was undone
    np.testing.assert_array_equal(read_image(tmp_path / "out" / "a.png"), RGBA)
    with pytest.raises(ImageError, match="unknown image format"):
        write_image(tmp_path / "out" / "a.gif", image)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png"]  # no temporary left behind


@pytest.mark.parametrize("image", [GRAY, RGB, RGBA])
def test_png_strips_round_trip(tmp_path, image):
    strips = ((top, image[top:top + 5]) for top in range(0, len(image), 5))
    write_png_strips(tmp_path / "s.png", image.shape, strips)
    np.testing.assert_array_equal(read_image(tmp_path / "s.png"), image)
    with pytest.raises(ValueError, match="rows"):
        write_png_strips(tmp_path / "t.png", image.shape, iter([(0, image[:5])]))
    assert not (tmp_path / "t.png").exists()


def test_tiles_cover_the_image_exactly(nearest_x4):
    image = RNG.integers(0, 256, (150, 97, 3), dtype=np.uint8)  # sizes that no tile divides
    for tile in (40, 64, 200):
        np.testing.assert_array_equal(enhance(image, nearest_x4, tile=tile), _nearest(image))


def test_enhance_keeps_the_kind(nearest_x4):
    gray = enhance(GRAY, nearest_x4, tile=40)
    assert gray.shape == (92, 124) and gray.dtype == np.uint8
    np.testing.assert_array_equal(gray, _nearest(GRAY))
    rgba = enhance(RGBA, nearest_x4, tile=40)
    # issue 12: colour under transparency is composited over white paper (ink only in alpha is still ink)
    np.testing.assert_array_equal(rgba[..., :3], _nearest(to_rgb(RGBA)))
    opaque = RGBA.copy()
    opaque[..., 3] = 255
    assert (enhance(opaque, nearest_x4)[..., 3] == 255).all()
    with pytest.raises(ValueError, match="uint8"):
        enhance(RGB.astype(np.float32), nearest_x4)
    with pytest.raises(ValueError, match="tile=16"):
        enhance(RGB, nearest_x4, tile=16)


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


def test_self_ensemble_averages_the_eight_transforms_back_into_place():
    """A generator that is not rotation-equivariant (it adds a left-to-right ramp): the ensemble output is the
    mean of the 8 turned-back outputs, which for this generator is the input plus the ramp's mean everywhere."""
    from qrsr_helpers.inference import super_resolve

    class Ramp:
        def __call__(self, x, training=False):
            ramp = np.linspace(0.0, 0.2, x.shape[2], dtype=np.float32)[None, None, :, None]
            return np.repeat(np.repeat(x, 4, axis=1), 4, axis=2) + np.repeat(ramp, 4, axis=2)

        def predict(self, x, batch_size=64, verbose=0):
            return self(x)

    lr = np.random.default_rng(1).integers(0, 200, (2, 6, 6, 3)).astype(np.uint8)
    plain, averaged = super_resolve(Ramp(), lr), super_resolve(Ramp(), lr, ensemble=True)
    base = np.repeat(np.repeat(lr.astype(np.float32) / 255.0, 4, axis=1), 4, axis=2)
    expected = np.round(np.clip(base + 0.1, 0, 1) * 255).astype(np.uint8)  # the ramp averages to its mean
    assert np.abs(averaged.astype(int) - expected).max() <= 1
    assert np.abs(plain.astype(int) - expected).max() > 10  # without the ensemble the ramp shows


def test_super_resolve_clips_a_generator_that_overshoots():
    """Generators overshoot [0, 1] at sharp edges; the uint8 result must saturate there, never wrap around."""
    from qrsr_helpers.inference import super_resolve

    lr = np.array([[[[0], [255]], [[128], [64]]]], np.uint8).repeat(3, axis=-1)
    overshoot = lambda x, training=False: np.repeat(np.repeat(3.0 * np.asarray(x) - 1.0, 4, axis=1), 4, axis=2)
    sr = super_resolve(overshoot, lr, eager=True)
    assert sr.dtype == np.uint8 and sr.shape == (1, 8, 8, 3)
    assert sr[0, 0, 0, 0] == 0 and sr[0, 0, 4, 0] == 255  # -1.0 -> 0 and 2.0 -> 255, not 0
    assert sr[0, 4, 0, 0] == round((3 * 128 / 255 - 1) * 255)  # in range: unchanged


def test_super_resolve_refuses_what_is_not_a_uint8_batch_and_a_wrong_scale():
    from qrsr_helpers.inference import _check_scale, super_resolve

    x4 = lambda x, training=False: np.repeat(np.repeat(np.asarray(x), 4, axis=1), 4, axis=2)
    for bad in (np.zeros((1, 4, 4, 3), np.float32), np.zeros((4, 4, 3), np.uint8)):
        with pytest.raises(ValueError, match=r"uint8 NHWC batch, got (float32|uint8) with shape"):
            super_resolve(x4, bad, eager=True)
    with pytest.raises(ValueError, match="turned 5x7 into 10x14, not x4"):
        _check_scale(np.zeros((10, 14, 3), np.uint8), 5, 7, 4)
    nan = lambda x, training=False: np.full(np.repeat(np.repeat(np.asarray(x), 4, 1), 4, 2).shape, np.nan)
    with pytest.raises(ValueError, match="NaN or infinite"):
        super_resolve(nan, np.zeros((1, 2, 2, 3), np.uint8), eager=True)
