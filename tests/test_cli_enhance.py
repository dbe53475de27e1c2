"""``qrsr enhance`` driven as a user drives it: a subprocess, real files, exit status, stdout/stderr.

Bad inputs are caught before TensorFlow is imported, so those runs take about a second; the runs
that enhance use a tiny random generator (``--weights``) unless the test is about the bundled one.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from qrsr_helpers.data.scenes import synthetic_photo
from qrsr_helpers.data.synth import random_code, render_code
from qrsr_helpers.io import read_image, write_image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from common import PEAK_RSS  # noqa: E402 - the peak-memory snippet benchmarks/enhance_photos.py uses too


def qrsr(*args, measure: bool = False) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", PEAK_RSS] if measure else [sys.executable, "-m", "qrsr_helpers.cli"]
    return subprocess.run(command + ["enhance", *map(str, args)], capture_output=True, text=True, timeout=600)


def errors(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("qrsr enhance: error:")]


def clean_code(seed: int, size: int = 120) -> tuple[np.ndarray, str]:
    """A sharp code filling the image: every decoder reads the original."""
    code = random_code(np.random.default_rng(seed))
    return np.round(render_code(code.matrix, size) * 255).astype(np.uint8), code.payload


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.png", "missing.png: no such file or folder"),
    (lambda d: (d / "notes.png").write_text("hello") and d / "notes.png", "notes.png: not a readable image"),
    (lambda d: (d / "empty.jpg").write_bytes(b"") or d / "empty.jpg", "empty.jpg: empty file"),
    (lambda d: (d / "nothing").mkdir() or d / "nothing", "nothing: folder holds no images"),
    (lambda d: d / "*.webp", "*.webp: no file matches this pattern"),
])
def test_bad_input_is_one_line_naming_it(tmp_path, make, message):
    result = qrsr(make(tmp_path), "--decode")
    assert result.returncode == 2
    [line] = errors(result)
    assert line.startswith(f"qrsr enhance: error: {tmp_path}/{message}"), line
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "tensorflow" not in result.stderr.lower()  # failed before loading a model


def test_bad_options(tmp_path):
    image, _ = clean_code(1)
    write_image(tmp_path / "a.png", image)
    write_image(tmp_path / "b.png", image)
    result = qrsr(tmp_path / "a.png", tmp_path / "b.png", "-o", tmp_path / "one.png")
    assert result.returncode == 2 and "-o names one file but there are 2 inputs" in result.stderr
    result = qrsr(tmp_path / "a.png", "--weights", tmp_path / "nope.weights.h5")
    assert result.returncode == 2 and "nope.weights.h5: no such file" in result.stderr
    assert not list(tmp_path.glob("*.x4.png"))


def test_folder_with_a_corrupt_file_among_good_ones(tmp_path, tiny_weights):
    gray, gray_text = clean_code(2)
    rgba, rgba_text = clean_code(3)
    folder = tmp_path / "scans"
    write_image(folder / "gray.png", gray)
    write_image(folder / "rgba.png", np.dstack([np.repeat(rgba[..., None], 3, axis=2), np.full_like(rgba, 255)]))
    cv2.imwrite(str(folder / "deep.png"), gray.astype(np.uint16) * 257)  # 16-bit
    (folder / "corrupt.png").write_bytes((folder / "gray.png").read_bytes()[:100])
    (folder / "readme.txt").write_text("not an image")
    result = qrsr(folder, "--decode", "--weights", tiny_weights, "-o", tmp_path / "out")
    assert result.returncode == 2, result.stderr  # the corrupt file decides the status...
    assert errors(result) == [f"qrsr enhance: error: {folder / 'corrupt.png'}: not a readable image (PNG, JPEG, "
                              "WebP, BMP, TIFF): corrupt, truncated or another format"]
    assert "skipped 1 non-image entry: readme.txt" in result.stderr
    assert "3 enhanced, 1 bad input(s); payload read from 3/3" in result.stderr
    for name, text in [("gray", gray_text), ("rgba", rgba_text), ("deep", gray_text)]:  # ...the good ones still ran
        assert f"{folder / name}.png -> {tmp_path / 'out' / name}.x4.png" in result.stdout
        assert json.dumps(text) in result.stdout
        assert read_image(tmp_path / "out" / f"{name}.x4.png").shape[:2] == (480, 480)
    assert read_image(tmp_path / "out" / "rgba.x4.png").shape == (480, 480, 4)
    assert read_image(tmp_path / "out" / "gray.x4.png").ndim == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["deep.x4.png", "gray.x4.png", "rgba.x4.png"]


def test_photos_decode_and_a_4000x3000_photo_stays_in_bounded_memory(tmp_path):
    """The bundled generator on a 640 x 480 photo and on a 12-megapixel one holding the same kind of
    code: both decode, only the code's region is enhanced, and the process stays under 2 GiB."""
    photo = synthetic_photo(4, module_px=2.5)
    write_image(tmp_path / "photo.jpg", photo.image.copy())
    other = synthetic_photo(5, module_px=2.5)
    big = np.full((3000, 4000, 3), 120, np.uint8)
    big[:, :, 1] = np.linspace(60, 200, 4000, dtype=np.uint8)[None, :]
    big[1700:2180, 2100:2740] = other.image
    write_image(tmp_path / "big.png", big)
    result = qrsr(tmp_path / "photo.jpg", tmp_path / "big.png", "--decode", measure=True)
    assert result.returncode == 0, result.stderr
    for name, payload in [("photo", photo.payload), ("big", other.payload)]:
        block = result.stdout.split(f"{name}.x4.png")[1]
        assert re.search(rf"enhanced\s+{re.escape(json.dumps(payload))}", block), result.stdout
        h, w = read_image(tmp_path / f"{name}.x4.png").shape[:2]
        assert h * w / 16 < 0.1 * 640 * 480  # the code's region, not the photo
    peak_kb = int(re.search(r"peak_rss_kb=(\d+)", result.stderr).group(1))
    assert peak_kb < 2 * 2**20, f"peak RSS {peak_kb / 2**10:.0f} MiB"  # measured ~1.2-1.6 GiB, model included
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_decode_exits_1_when_nothing_is_read_and_0_when_something_is(tmp_path, tiny_weights):
    """The README's promise to scripts: ``--decode`` exits 1 when no file's code was read, 0 when one was."""
    blank = np.full((64, 64, 3), 200, np.uint8)
    write_image(tmp_path / "blank.png", blank)
    nothing = qrsr(tmp_path / "blank.png", "--decode", "--weights", tiny_weights, "-o", tmp_path / "out.png")
    assert nothing.returncode == 1, nothing.stderr
    image, _ = clean_code(11, size=240)
    write_image(tmp_path / "sharp.png", image)
    read = qrsr(tmp_path / "sharp.png", "--decode")
    assert read.returncode == 0, read.stderr
