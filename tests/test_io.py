"""io: reading every supported format and writing atomically, whole or in PNG strips."""

import cv2
import numpy as np
import pytest

from qrsr_helpers.io import ImageError, read_image, write_image, write_png_strips

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
