"""``qrsr enhance`` driven as a user drives it: a subprocess, real files, exit status, stdout/stderr.

Bad inputs are caught before TensorFlow is imported, so those runs take about a second; the runs
that enhance use a tiny random generator (``--weights``) unless the test is about the bundled one.
Every bad input is one line naming it (exit 2), never a traceback; one file's failure never stops a batch."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import segno
from support import ENV, assert_one_clean_error, code_image, png_header_only, qr_code

from qrsr_helpers.data.scenes import synthetic_photo
from qrsr_helpers.data.synth import random_code, render_code
from qrsr_helpers.decode import decode
from qrsr_helpers.errors import printable
from qrsr_helpers.io import read_image, write_image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from common import PEAK_RSS  # noqa: E402 - the peak-memory snippet benchmarks/enhance_photos.py uses too

ENV = {name: value for name, value in ENV.items() if name not in ("QRSR_BACKEND", "QRSR_PRECISION")}


def qrsr(*args, measure: bool = False, cwd=None, env: dict | None = None) -> subprocess.CompletedProcess:
    """``qrsr enhance ARGS`` (output decoded leniently: file names may not be UTF-8)."""
    command = [sys.executable, "-c", PEAK_RSS] if measure else [sys.executable, "-m", "qrsr_helpers.cli"]
    return subprocess.run(command + ["enhance", *map(str, args)], capture_output=True, text=True, errors="replace",
                          timeout=600, cwd=cwd, env={**ENV, **(env or {})})


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


def qr_png(path: Path, matrix: np.ndarray, px: int = 4) -> Path:
    image = np.pad((1 - np.asarray(matrix, np.uint8)) * 255, 4, constant_values=255)
    write_image(path, np.kron(image, np.ones((px, px), np.uint8)).astype(np.uint8))
    return path


def test_a_shift_jis_code_in_a_folder_does_not_stop_the_batch(tmp_path):
    folder = tmp_path / "photos"
    qr_png(folder / "a_sjis.png", segno.make("日本語", encoding="shift_jis", micro=False).matrix)
    qr_png(folder / "b_plain.png", segno.make("plain text", micro=False).matrix)
    result = qrsr(folder, "-o", tmp_path / "out", "--decode")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert "日本語" in result.stdout and "plain text" in result.stdout
    assert "2 enhanced, 0 bad input(s)" in result.stderr


def test_unwritable_outputs_are_reported_per_file_and_the_batch_goes_on(tmp_path):
    image, _ = code_image()
    write_image(tmp_path / "a.png", image)
    blocker = tmp_path / "blocker.txt"
    blocker.write_text("a file where a folder should be")
    long_name = tmp_path / ("l" * 240 + ".png")  # legal; its temporary name must be too
    write_image(long_name, image)
    result = qrsr(tmp_path / "a.png", long_name, "-o", blocker / "sub")
    assert_one_clean_error(result, 2, "blocker.txt")
    assert "2 bad input(s)" in result.stderr  # both reported, the second was tried
    ok = qrsr(long_name)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert (tmp_path / ("l" * 240 + ".x4.png")).is_file()
    assert not list(tmp_path.glob(".tmp-*"))
    assert_one_clean_error(qrsr(tmp_path / "a.png", "-o", blocker), 2, "blocker.txt")
    assert blocker.read_text() == "a file where a folder should be"
    assert_one_clean_error(qrsr(tmp_path / "a.png", "-o", tmp_path / "out.txt"), 2, "out.txt")
    assert not (tmp_path / "out.txt").exists()


def test_input_names_that_would_do_harm(tmp_path):
    image, _ = code_image()
    write_image(tmp_path / "x.png", image)
    write_image(tmp_path / "x.x4.png", image)  # an earlier output
    assert_one_clean_error(qrsr("", cwd=tmp_path), 2, "empty input name")
    assert not list(tmp_path.glob("*.x4.x4.png"))
    glob_run = qrsr("*.png", cwd=tmp_path)  # quoted glob: earlier outputs are skipped as in folders
    assert glob_run.returncode == 0 and "skipped 1 earlier output" in glob_run.stderr, glob_run.stderr[-2000:]
    assert not (tmp_path / "x.x4.x4.png").exists()
    clash = qrsr("x.png", "x.x4.png", cwd=tmp_path)  # x.png's output would overwrite input 2
    assert_one_clean_error(clash, 2, "would overwrite the input")
    twice = qrsr("x.png", str(tmp_path / "x.png"), cwd=tmp_path)
    assert twice.returncode == 0 and "would write" not in twice.stderr, twice.stderr[-2000:]  # one file, once
    (tmp_path / "anim.gif").write_bytes(b"GIF89a")
    assert_one_clean_error(qrsr(tmp_path / "anim.gif"), 2, "anim.gif", "not a supported image type")


@pytest.mark.parametrize("side", [20_000, 60_000])
def test_huge_images_are_refused_from_their_header(tmp_path, side):
    bomb = png_header_only(tmp_path / "bomb.png", side, side)
    assert_one_clean_error(qrsr(bomb, "--decode"), 2, "bomb.png", "too large", "--max-pixels")


@pytest.mark.slow
def test_sigterm_leaves_no_partial_output_and_exits_130(tmp_path):
    big = np.random.default_rng(0).integers(0, 256, (1200, 1600, 3), dtype=np.uint8)  # whole image: many tiles
    write_image(tmp_path / "big.png", big)
    process = subprocess.Popen([sys.executable, "-m", "qrsr_helpers.cli", "enhance", str(tmp_path / "big.png"),
                                "--whole"], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240  # the streamed output's temporary file: tiles are being written
    while time.monotonic() < deadline and process.poll() is None and not list(tmp_path.glob(".tmp-*")):
        time.sleep(0.05)
    assert process.poll() is None and list(tmp_path.glob(".tmp-*")), "no output was being written to interrupt"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert not list(tmp_path.glob(".tmp-*")) and not (tmp_path / "big.x4.png").exists()


@pytest.mark.parametrize("options", [["--decode"], ["--weights", "srgan"], ["--ensemble"], ["--whole"],
                                     ["--backend", "keras", "--decode"]])
def test_no_way_of_enhancing_loses_a_sharp_code(tmp_path, options):
    folder = tmp_path / "sharp"
    folder.mkdir()
    for i in range(3):  # 4-5 px per module: where the generator damaged finder patterns (issue 20)
        write_image(folder / f"{i}.png", np.pad(qr_code(f"https://example.org/sharp/{i}", 4.0 + i / 2), 12,
                                                constant_values=255))
    result = qrsr(folder, *options)
    assert result.returncode == 0, result.stderr[-2000:]
    if "--whole" not in options:  # asked for the whole image: nothing is located, so nothing is measured
        assert result.stdout.count("px per module and reads as it is") == 3, result.stdout
    for i in range(3):
        assert f"https://example.org/sharp/{i}" in decode(read_image(folder / f"{i}.x4.png"), "cascade").texts


def test_two_codes_in_one_image_are_both_enhanced_and_reported(tmp_path):
    canvas = np.full((160, 420), 255, np.uint8)
    first, second = qr_code("https://a.example/one", 3.0), qr_code("https://b.example/two", 1.5)
    canvas[10:10 + first.shape[0], 10:10 + first.shape[1]] = first
    canvas[20:20 + second.shape[0], 300:300 + second.shape[1]] = second
    write_image(tmp_path / "two.png", canvas)
    result = qrsr(tmp_path / "two.png", "--decode")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "2 codes found" in result.stdout, result.stdout
    enhanced = decode(read_image(tmp_path / "two.x4.png"), "cascade").texts
    assert {"https://a.example/one", "https://b.example/two"} <= set(enhanced)


@pytest.mark.parametrize("variable", ["QRSR_PRECISION", "QRSR_BACKEND"])
def test_a_bad_setting_is_one_line_before_any_file(tmp_path, variable):
    for i in range(5):
        write_image(tmp_path / f"{i}.png", np.pad(qr_code(f"https://example.org/{i}", 1.6), 10, constant_values=255))
    result = qrsr(tmp_path, env={variable: "bogus"})
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert len(errors(result)) == 1 and variable in errors(result)[0], result.stderr
    assert not list(tmp_path.glob("*.x4.png"))


def test_names_are_printed_safely():
    assert printable("a\x1b[31mb\nc\u202ed") == "a\\x1b[31mb\\nc\\u202ed"
    assert printable(os.fsdecode(b"bad\xff.png")) == "bad\\xff.png"
    assert printable("Grüße 東京") == "Grüße 東京"


def test_terminal_escapes_in_a_file_name_never_reach_the_terminal(tmp_path):
    name = tmp_path / "evil\x1b]0;pwned\x07.png"
    write_image(name, np.pad(qr_code("https://example.org/esc", 1.6), 10, constant_values=255))
    missing = tmp_path / "gone\x1b[2J.png"
    result = qrsr(name, missing, "--decode")
    assert "\x1b" not in result.stdout + result.stderr and "\x07" not in result.stdout + result.stderr
    assert "evil\\x1b]0;pwned\\x07.png" in result.stdout and "gone\\x1b[2J.png" in result.stderr


def test_the_same_output_name_from_two_folders_names_the_real_fix(tmp_path):
    for folder in ("d1", "d2"):
        (tmp_path / folder).mkdir()
        write_image(tmp_path / folder / "a.png", np.pad(qr_code("https://example.org/a", 1.6), 10, constant_values=255))
    result = qrsr(tmp_path / "d1" / "a.png", tmp_path / "d2" / "a.png", "-o", tmp_path / "out")
    assert result.returncode == 2
    assert any("separate -o folders" in line for line in errors(result)), result.stderr


@pytest.mark.parametrize("payload", ["Preis: 5 £", "ÄÖÜ", "Google モバイル", "Grüße"])
def test_one_code_prints_one_payload_the_right_one(tmp_path, payload):
    matrix = np.array(segno.make_qr(payload, error="m").matrix, np.uint8)
    write_image(tmp_path / "code.png", np.kron(np.pad((1 - matrix) * 255, 4, constant_values=255),
                                               np.ones((2, 2))).astype(np.uint8))
    result = qrsr(tmp_path / "code.png", "--decode")
    assert result.returncode == 0, result.stderr[-2000:]
    printed = [line for line in result.stdout.splitlines()[1:] if not line.strip().startswith("note:")]
    assert printed and all(f'"{payload}"' in line for line in printed), result.stdout
    assert all(line.count('"') == 2 for line in printed if "nothing read" not in line), result.stdout


def test_a_multi_page_tiff_says_which_page_was_enhanced(tmp_path):
    from PIL import Image

    pages = [Image.fromarray(np.pad(qr_code(f"https://example.org/page/{i}", 1.6), 10, constant_values=255))
             for i in range(3)]
    pages[0].save(tmp_path / "pages.tif", save_all=True, append_images=pages[1:])
    result = qrsr(tmp_path / "pages.tif")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "page 1 of 3" in result.stdout, result.stdout
