"""The folder loader: every file is loaded or reported by name with a reason; odd formats load right."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from qrsr_helpers.data.folder import NOT_AN_IMAGE, TOO_SMALL, ImageFolderError, load_folder
from qrsr_helpers.data.synth import random_code, render_code
from qrsr_helpers.decode import decode
from qrsr_helpers.io import UNREADABLE, read_rgb


def qr_gray(size: int = 160, seed: int = 0) -> tuple[np.ndarray, str]:
    code = random_code(np.random.default_rng(seed))
    return np.round(render_code(code.matrix, size) * 255).astype(np.uint8), code.payload


def write(path: Path, image: np.ndarray) -> Path:
    """Write with OpenCV; ``image`` is RGB(A) or grey, any of 8/16-bit."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    assert cv2.imwrite(str(path), image)
    return path


def test_missing_folder_names_the_path(tmp_path):
    with pytest.raises(ImageFolderError, match="image folder not found: .*nowhere"):
        load_folder(tmp_path / "nowhere")


def test_a_file_is_not_a_folder(tmp_path):
    file = write(tmp_path / "one.png", qr_gray()[0])
    with pytest.raises(ImageFolderError, match="not a folder: .*one.png"):
        load_folder(file)


def test_empty_folder_names_the_path(tmp_path):
    with pytest.raises(ImageFolderError, match=f"no loadable image in {tmp_path}"):
        load_folder(tmp_path)


def test_folder_of_only_bad_files_says_why(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ImageFolderError, match="notes.txt: not an image"):
        load_folder(tmp_path)


def test_every_bad_file_is_reported_by_name_and_reason(tmp_path):
    image, _ = qr_gray()
    write(tmp_path / "good.png", image)
    (tmp_path / "garbage.jpg").write_bytes(np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8).tobytes())
    (tmp_path / "text.png").write_text("this is not a PNG")
    (tmp_path / "empty.png").write_bytes(b"")
    png = cv2.imencode(".png", image)[1].tobytes()
    (tmp_path / "truncated.png").write_bytes(png[: len(png) // 2])
    jpg = cv2.imencode(".jpg", image)[1].tobytes()
    (tmp_path / "truncated.jpg").write_bytes(jpg[: len(jpg) // 2])
    (tmp_path / "readme.txt").write_text("labels")
    write(tmp_path / "tiny.png", cv2.resize(image, (40, 40)))
    pairs, report = load_folder(tmp_path)

    assert report.loaded == ["good.png"] and len(pairs) == 1
    reasons = dict(report.skipped)
    assert set(reasons) == {"garbage.jpg", "text.png", "empty.png", "truncated.png", "truncated.jpg", "readme.txt",
                            "tiny.png"}
    for name in ("garbage.jpg", "text.png", "truncated.png", "truncated.jpg"):
        assert reasons[name].startswith(UNREADABLE)
    assert reasons["empty.png"] == f"{UNREADABLE}: empty file"
    assert reasons["readme.txt"].startswith(NOT_AN_IMAGE)
    assert reasons["tiny.png"] == f"{TOO_SMALL}: 40x40 < 128 pixels"
    summary = report.summary()
    first_line = summary.splitlines()[0]
    assert first_line.endswith("1 loaded, 7 skipped (1 not an image, 1 too small, 5 unreadable or corrupt)")
    assert all(f"skipped {name}:" in summary for name in reasons)


def test_min_size_lets_small_images_in(tmp_path):
    write(tmp_path / "small.png", qr_gray(64)[0])
    pairs, report = load_folder(tmp_path, min_size=64)
    assert report.loaded == ["small.png"] and pairs.hr.shape == (1, 128, 128, 3)


def test_pair_shapes_dtypes_and_unknown_payloads(tmp_path):
    for i in range(3):
        write(tmp_path / f"code{i}.png", qr_gray(seed=i)[0])
    pairs, report = load_folder(tmp_path, hr_size=64, scale=2, min_size=64)
    assert pairs.hr.shape == (3, 64, 64, 3) and pairs.lr.shape == (3, 32, 32, 3)
    assert pairs.hr.dtype == pairs.lr.dtype == np.uint8
    assert pairs.payloads == ["", "", ""] and pairs.versions.tolist() == [0, 0, 0] and pairs.styles == ["user"] * 3
    expected_lr = cv2.resize(pairs.hr[0], (32, 32), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(pairs.lr[0], expected_lr)  # the tutorial's INTER_AREA
    gray_pairs, _ = load_folder(tmp_path, channels=1)
    assert gray_pairs.hr.shape == (3, 128, 128, 1) and gray_pairs.lr.shape == (3, 32, 32, 1)


def test_realistic_degradation_is_seeded(tmp_path):
    write(tmp_path / "a.png", qr_gray()[0])
    first, _ = load_folder(tmp_path, degradation="realistic", seed=3)
    again, _ = load_folder(tmp_path, degradation="realistic", seed=3)
    other, _ = load_folder(tmp_path, degradation="realistic", seed=4)
    np.testing.assert_array_equal(first.lr, again.lr)
    assert not np.array_equal(first.lr, other.lr)
    with pytest.raises(ValueError, match="degradation='blurry'"):
        load_folder(tmp_path, degradation="blurry")
    with pytest.raises(ValueError, match="scale=3 must divide hr_size=128"):
        load_folder(tmp_path, scale=3)


def test_rgba_is_composited_on_white(tmp_path):
    gray, payload = qr_gray()
    rgba = np.zeros(gray.shape + (4,), np.uint8)  # black everywhere, alpha = darkness of the module
    rgba[..., 3] = 255 - gray
    image = read_rgb(write(tmp_path / "transparent.png", rgba))
    np.testing.assert_array_equal(image, np.repeat(gray[..., None], 3, axis=2))
    pairs, _ = load_folder(tmp_path)
    assert decode(pairs.hr[0]).matches(payload)


def test_sixteen_bit_and_gray_load_as_eight_bit_rgb(tmp_path):
    gray, payload = qr_gray()
    image16 = read_rgb(write(tmp_path / "deep.png", gray.astype(np.uint16) * 257))
    np.testing.assert_array_equal(image16, np.repeat(gray[..., None], 3, axis=2))
    rgb16 = np.repeat(gray[..., None], 3, axis=2).astype(np.uint16) * 257
    np.testing.assert_array_equal(read_rgb(write(tmp_path / "deep_rgb.tif", rgb16)), image16)
    np.testing.assert_array_equal(read_rgb(write(tmp_path / "plain.png", gray)), image16)
    pairs, report = load_folder(tmp_path)
    assert len(report.loaded) == 3 and not report.skipped
    assert all(decode(hr).matches(payload) for hr in pairs.hr)


def test_colour_order_is_rgb(tmp_path):
    red = np.zeros((130, 130, 3), np.uint8)
    red[..., 0] = 255
    np.testing.assert_array_equal(read_rgb(write(tmp_path / "red.png", red))[0, 0], [255, 0, 0])


def test_odd_sizes_are_padded_white_to_a_square(tmp_path):
    gray, payload = qr_gray(150)
    wide = np.full((150, 211), 255, np.uint8)
    wide[:, 30:180] = gray
    write(tmp_path / "wide.png", wide)
    write(tmp_path / "odd.png", cv2.resize(gray, (257, 257), interpolation=cv2.INTER_NEAREST))
    pairs, report = load_folder(tmp_path)
    assert report.loaded == ["odd.png", "wide.png"]
    assert pairs.hr.shape == (2, 128, 128, 3)
    assert (pairs.hr[1, :10] == 255).all() and (pairs.hr[1, -10:] == 255).all()  # the padding is white
    assert all(decode(hr).matches(payload) for hr in pairs.hr)


def test_subfolders_are_searched_with_relative_names(tmp_path):
    (tmp_path / "set_a").mkdir()
    write(tmp_path / "set_a" / "code.png", qr_gray()[0])
    _, report = load_folder(tmp_path)
    assert report.loaded == ["set_a/code.png"]
