"""The third hostile pass, for the file layer (``qrsr_helpers.io``): paths OpenCV cannot take, readers the
size guard did not cover, multi-page TIFF, EXIF orientation in every format, readable size messages.

CLI cases run ``qrsr`` as a subprocess, as a user would (see ``test_cli.py``): the exit status, one
clean line per error, never a traceback or a crash (exit 139 is a segfault).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps
from support import assert_one_clean_error, png_header_only, qrsr

from qrsr_helpers import io as qio
from qrsr_helpers.data.synth import random_code, render_code
from qrsr_helpers.io import ImageError, read_image, write_image, write_png_strips


def code_image(seed: int = 1, px: int = 4) -> np.ndarray:
    """A small clean version-1 QR code: 29 modules with its quiet zone, ``px`` pixels each."""
    code = random_code(np.random.default_rng(seed), max_version=1)
    return np.round(render_code(code.matrix, (code.modules + 8) * px) * 255).astype(np.uint8)


def odd_name(folder: Path, raw: bytes) -> Path:
    """``folder / raw`` where ``raw`` is not UTF-8: Python holds it as surrogate escapes."""
    return folder / os.fsdecode(raw)


# --- 1. paths OpenCV cannot take --------------------------------------------------------------------


def test_write_image_takes_a_non_utf8_name_in_process(tmp_path):
    image = code_image()
    for suffix in (b".png", b".jpg", b".webp", b".bmp", b".tif"):
        path = odd_name(tmp_path, b"out\xff\xfe" + suffix)
        write_image(path, image)
        assert os.path.exists(os.fsencode(path))
        assert read_image(path).shape[:2] == image.shape
    assert all(not name.startswith(b".tmp") for name in os.listdir(os.fsencode(tmp_path)))


def test_enhance_a_folder_holding_a_non_utf8_name(tmp_path, tiny_weights):
    folder = tmp_path / "names"
    write_image(odd_name(folder, b"bad\xff\xfe.png"), code_image())
    result = qrsr("enhance", folder, "--decode", "--weights", tiny_weights)
    assert result.returncode in (0, 1), result.stderr[-3000:]  # done / nothing decoded, not a crash (139)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    output = odd_name(folder, b"bad\xff\xfe.x4.png")
    assert os.path.exists(os.fsencode(output)), os.listdir(os.fsencode(folder))
    assert read_image(output).shape[:2] == (code_image().shape[0] * 4,) * 2  # the tiny generator is x4
    assert not [name for name in os.listdir(os.fsencode(folder)) if name.startswith(b".tmp")]


def test_enhance_to_a_non_utf8_output_name(tmp_path, tiny_weights):
    write_image(tmp_path / "lr32.png", code_image())
    output = odd_name(tmp_path / "out", b"\xff.jpg")
    result = qrsr("enhance", tmp_path / "lr32.png", "-o", output, "--weights", tiny_weights)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert read_image(output).shape[:2] == (code_image().shape[0] * 4,) * 2


# --- 2. every file's size is checked before decoding ---------------------------------------------------


def radiance_header(path: Path, width: int, height: int) -> Path:
    """A Radiance HDR file that claims width x height and holds a few bytes (OpenCV would allocate it all)."""
    path.write_bytes(b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n" + f"-Y {height} +X {width}\n".encode() + bytes(64))
    return path


@pytest.fixture
def no_decoding(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("cv2.imdecode was called on a file the header pass should have refused")

    monkeypatch.setattr(cv2, "imdecode", refuse)


def test_a_radiance_file_named_png_is_refused_before_decoding(tmp_path, no_decoding):
    for path in (radiance_header(tmp_path / "huge.png", 20_000, 20_000),
                 tmp_path / "small.png"):
        if not path.exists():  # a real, small HDR image: refused as well, not decoded as float
            path.write_bytes(cv2.imencode(".hdr", np.ones((8, 8, 3), np.float32))[1].tobytes())
        with pytest.raises(ImageError, match="its contents are unknown") as error:
            read_image(path, max_pixels=1_000_000)
        assert str(error.value).startswith(f"{path}: ") and "\n" not in str(error.value)
        assert error.value.reason == qio.UNREADABLE


def test_a_format_pillow_knows_but_we_do_not_support_is_named(tmp_path, no_decoding):
    Image.new("L", (30, 20)).save(tmp_path / "anim.gif")
    (tmp_path / "anim.png").write_bytes((tmp_path / "anim.gif").read_bytes())
    with pytest.raises(ImageError, match=r"not a supported image \(PNG, JPEG, WebP, BMP, TIFF\): its contents are GIF"):
        read_image(tmp_path / "anim.png")


def test_the_cli_refuses_a_huge_radiance_file_in_one_line(tmp_path):
    bomb = radiance_header(tmp_path / "bomb.png", 20_000, 20_000)
    assert_one_clean_error(qrsr("enhance", bomb, "--max-pixels", "1000000"), 2, "bomb.png", "its contents are unknown")


# --- 3. the header: size, format, pages, orientation; no pixels read ----------------------------------


def test_multi_page_tiff_says_how_many_pages(tmp_path):
    pages = [Image.fromarray(np.full((20, 30), value, np.uint8)) for value in (10, 120, 240)]
    pages[0].save(tmp_path / "scan.tif", save_all=True, append_images=pages[1:])
    assert qio.image_header(tmp_path / "scan.tif") == qio.Header(30, 20, "TIFF", 3, 1)
    np.testing.assert_array_equal(read_image(tmp_path / "scan.tif"), np.full((20, 30), 10, np.uint8))  # page 1
    Image.new("RGB", (5, 4)).save(tmp_path / "one.png")
    assert qio.image_header(tmp_path / "one.png") == qio.Header(5, 4, "PNG", 1, 1)
    (tmp_path / "notes.png").write_text("hello")
    assert qio.image_header(tmp_path / "notes.png") is None


def _move_exif_after_idat(png: bytes) -> bytes:
    """The same PNG with its eXIf chunk after the pixel data (legal; Pillow would decode it all to find it)."""
    chunks, pos = [], 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        chunks.append(png[pos:pos + 12 + length])
        pos += 12 + length
    exif = [c for c in chunks if c[4:8] == b"eXIf"]
    others = [c for c in chunks if c[4:8] != b"eXIf"]
    assert len(exif) == 1 and others[-1][4:8] == b"IEND"
    return png[:8] + b"".join(others[:-1] + exif + others[-1:])


def test_the_header_reads_no_pixels_even_for_a_late_png_exif(tmp_path, monkeypatch):
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (30, 20)).save(tmp_path / "early.png", exif=exif)
    (tmp_path / "late.png").write_bytes(_move_exif_after_idat((tmp_path / "early.png").read_bytes()))
    from PIL import ImageFile

    def refuse(self, *args, **kwargs):
        raise AssertionError("the header pass decoded pixels")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    for name in ("early.png", "late.png"):
        assert qio.image_header(tmp_path / name) == qio.Header(30, 20, "PNG", 1, 6)


# --- 4. EXIF orientation, the same in every format ---------------------------------------------------


def _asymmetric(channels: int) -> np.ndarray:
    """A 24 x 40 image that looks different under each of the 8 orientations."""
    y, x = np.mgrid[0:24, 0:40]
    base = (x * 6 + y * 2).astype(np.uint8)
    base[2:8, 3:12] = 255  # a block near the top-left corner
    return base if channels == 1 else np.dstack([base, 255 - base, (y * 10).astype(np.uint8)][:channels])


@pytest.mark.parametrize("suffix, save", [(".png", {}), (".webp", {"lossless": True}), (".jpg", {"quality": 100}),
                                          (".tif", {})])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_as_pillow_applies_it(tmp_path, suffix, save, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}{suffix}"
    Image.fromarray(_asymmetric(3)).save(path, exif=exif, **save)
    with Image.open(path) as image:
        expected = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    got = read_image(path)
    assert got.shape == expected.shape
    assert np.abs(got.astype(int) - expected).max() <= (3 if suffix == ".jpg" else 0)
    assert qio.image_header(path).orientation == orientation


@pytest.mark.parametrize("orientation", [5, 6, 7, 8])
def test_orientation_keeps_alpha_and_16_bit(tmp_path, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    rgba = _asymmetric(3)
    rgba = np.dstack([rgba, _asymmetric(1)])
    Image.fromarray(rgba).save(tmp_path / "a.png", exif=exif)
    with Image.open(tmp_path / "a.png") as image:
        expected = np.asarray(ImageOps.exif_transpose(image))
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), expected)
    deep = _asymmetric(1).astype(np.uint16) * 257
    Image.fromarray(deep).save(tmp_path / "d.png", exif=exif)  # 16-bit grey ("I;16")
    with Image.open(tmp_path / "d.png") as image:
        expected = np.asarray(ImageOps.exif_transpose(image)).astype(np.int64) // 257
    got = read_image(tmp_path / "d.png")
    assert got.dtype == np.uint8 and got.ndim == 2
    np.testing.assert_array_equal(got, expected)
    # OpenCV turns a TIFF itself: it must not be turned twice. (Pillow mis-sizes its own 16-bit oriented TIFF,
    # so the PNG's verified result is the reference here.)
    Image.fromarray(deep).save(tmp_path / "d.tif", tiffinfo={0x0112: orientation})
    np.testing.assert_array_equal(read_image(tmp_path / "d.tif"), got)


# --- 5. sizes said readably ----------------------------------------------------------------------------


@pytest.mark.parametrize("width, height, limit, said", [
    (40, 40, 100, "40x40 is too large (1,600 px > 100 px;"),
    (20_000, 20_000, qio.MAX_PIXELS, "20000x20000 is too large (400 MP > 50 MP;"),
    (1_300, 1_000, 1_000_000, "1300x1000 is too large (1.3 MP > 1 MP;"),
    (400, 300, 100_000, "400x300 is too large (120,000 px > 100,000 px;"),  # 0.1 MP both: said exactly
])
def test_too_large_says_sizes_readably(tmp_path, width, height, limit, said, no_decoding):
    path = png_header_only(tmp_path / "big.png", width, height)
    with pytest.raises(ImageError) as error:
        read_image(path, max_pixels=limit)
    assert str(error.value).startswith(f"{path}: {said}"), str(error.value)
    assert error.value.reason == "too large"


def test_the_cli_says_pixels_when_the_limit_is_tiny(tmp_path):
    write_image(tmp_path / "code.png", np.zeros((40, 40), np.uint8))
    assert_one_clean_error(qrsr("enhance", tmp_path / "code.png", "--max-pixels", "100"), 2,
                           "code.png", "(1,600 px > 100 px;")



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
