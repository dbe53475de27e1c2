"""The hostile pass (issue 12): every case that once aborted a batch, wasted a run or printed a traceback.

CLI cases run ``qrsr`` as a subprocess, as a user would; each checks the exit status (0 done, 1 nothing
decoded, 2 bad input or argument, 130 interrupted), that stderr names the file or value in one line
and never holds a traceback, and that nothing half-written is left behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import segno
from support import ENV, assert_one_clean_error, our_lines, png_header_only, qrsr

from qrsr_helpers.data.synth import random_code, render_code
from qrsr_helpers.io import read_image, write_image


def code_image(seed: int = 1, px: int = 4) -> tuple[np.ndarray, str]:
    code = random_code(np.random.default_rng(seed), max_version=1)
    return np.round(render_code(code.matrix, (code.modules + 8) * px) * 255).astype(np.uint8), code.payload


def qr_png(path: Path, matrix: np.ndarray, px: int = 4) -> Path:
    image = np.pad((1 - np.asarray(matrix, np.uint8)) * 255, 4, constant_values=255)
    write_image(path, np.kron(image, np.ones((px, px), np.uint8)).astype(np.uint8))
    return path


# --- a learner's own weights ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """What `qrsr train --profile smoke` leaves: run.json beside generator_*.weights.h5 (no NAME.run.json)."""
    out = tmp_path_factory.mktemp("run") / "run1"
    env = {**ENV, "QRSR_DATA_DIR": str(out.parent / "data")}
    done = subprocess.run([sys.executable, "-m", "qrsr_helpers.cli", "train", "--profile", "smoke", "--stage",
                           "both", "--out", str(out), "--epochs", "1"], capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.slow
def test_weights_a_learner_trained_load_in_every_command(trained_run, tmp_path):
    weights = trained_run / "generator_gan.weights.h5"
    assert not weights.with_name("generator_gan.run.json").exists()  # only the run folder's run.json
    image, _ = code_image()
    write_image(tmp_path / "code.png", image)
    enhanced = qrsr("enhance", tmp_path / "code.png", "--weights", weights)
    assert enhanced.returncode == 0 and "Traceback" not in enhanced.stderr, enhanced.stderr[-2000:]
    assert read_image(tmp_path / "code.x4.png").shape[:2] == (image.shape[0] * 4, image.shape[1] * 4)
    evaluated = qrsr("evaluate", "--upscaler", weights, "--n", "4", "--json")
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert {row["upscaler"] for row in json.loads(evaluated.stdout)["upscalers"]} == {str(weights), "bicubic"}
    demo = qrsr("demo", "--n", "2", "--weights", weights, "--out", tmp_path / "demo.png")
    assert demo.returncode == 0 and (tmp_path / "demo.png").is_file(), demo.stderr[-2000:]
    checkpoint = next((trained_run / "checkpoints" / "pretrain").glob("*.weights.h5"))
    from qrsr_helpers import load_pretrained

    assert load_pretrained(checkpoint).count_params() == load_pretrained(weights).count_params()


@pytest.mark.slow
def test_train_init_from_a_learners_weights_and_finished_stages_are_not_redone(trained_run, tmp_path):
    pretrain_file = trained_run / "generator_pretrain.weights.h5"
    before = (pretrain_file.stat().st_mtime_ns, (trained_run / "history_pretrain.csv").read_text())
    env = {**ENV, "QRSR_DATA_DIR": str(trained_run.parent / "data")}
    again = subprocess.run([sys.executable, "-m", "qrsr_helpers.cli", "train", "--profile", "smoke", "--stage", "both",
                            "--out", str(trained_run), "--epochs", "1"], capture_output=True, text=True, env=env,
                           timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "not redone: pretrain, gan" in again.stdout
    assert (pretrain_file.stat().st_mtime_ns, (trained_run / "history_pretrain.csv").read_text()) == before
    init = subprocess.run([sys.executable, "-m", "qrsr_helpers.cli", "train", "--profile", "smoke", "--stage", "gan",
                           "--init", str(trained_run / "generator_gan.weights.h5"), "--out", str(tmp_path / "more"),
                           "--epochs", "1"], capture_output=True, text=True, env=env, timeout=600)
    assert init.returncode == 0, init.stderr[-2000:]


def _broken_weights(tmp_path: Path, tiny_weights: Path) -> dict[str, Path]:
    good = tiny_weights.read_bytes()
    cases = {"empty": b"", "text": b"these are not weights\n", "truncated": good[: len(good) // 2]}
    flipped = bytearray(good)
    for i in range(8, 4096):  # past the signature: the superblock and the first object headers
        flipped[i] ^= 0xFF
    cases["bitflip"] = bytes(flipped)
    files = {}
    for name, data in cases.items():
        files[name] = tmp_path / f"{name}.weights.h5"
        files[name].write_bytes(data)
        (tmp_path / f"{name}.run.json").write_text(tiny_weights.with_name("tiny.run.json").read_text())
    return files


def test_broken_weights_are_one_line_exit_2(tmp_path, tiny_weights):
    image, _ = code_image()
    write_image(tmp_path / "code.png", image)
    for path in _broken_weights(tmp_path, tiny_weights).values():
        result = qrsr("enhance", tmp_path / "code.png", "--weights", path)
        assert_one_clean_error(result, 2, str(path))
    h5 = tmp_path / "model.h5"  # a valid weights file under a name Keras 3 does not load as weights
    h5.write_bytes(tiny_weights.read_bytes())
    assert_one_clean_error(qrsr("evaluate", "--upscaler", h5, "--n", "2"), 2, "model.h5", ".weights.h5")


def test_nan_weights_are_refused_at_load(tmp_path, nan_weights):
    from qrsr_helpers.errors import BadFile
    from qrsr_helpers.models import load_generator

    with pytest.raises(BadFile, match="NaN"):
        load_generator(nan_weights)
    image, _ = code_image()
    write_image(tmp_path / "code.png", image)
    assert_one_clean_error(qrsr("enhance", tmp_path / "code.png", "--weights", nan_weights), 2, "NaN")


def test_weights_of_an_unknown_architecture_say_how_to_describe_them(tmp_path, tiny_weights):
    lonely = tmp_path / "lonely.weights.h5"
    lonely.write_bytes(tiny_weights.read_bytes())  # no run.json anywhere near it
    image, _ = code_image()
    write_image(tmp_path / "code.png", image)
    line = assert_one_clean_error(qrsr("enhance", tmp_path / "code.png", "--weights", lonely), 2, "lonely.weights.h5")
    assert "run.json" in line


def test_pretrained_means_the_default_bundled_generator_everywhere():
    from qrsr_helpers import load_pretrained

    assert load_pretrained("pretrained") is load_pretrained("srresnet") is load_pretrained()


# --- one bad file or payload never stops a batch ---------------------------------------------------


@pytest.mark.parametrize("payload, encoding, expected", [
    ("日本語テキスト", "shift_jis", "日本語テキスト"),
    ("Grüße, café", "latin-1", "Grüße, café"),
    ("κόσμε ✓", "utf-8", "κόσμε ✓"),
])
def test_every_payload_encoding_is_read_by_both_decoders(payload, encoding, expected):
    from qrsr_helpers.decode import decode

    code = segno.make(payload, encoding=encoding, micro=False)
    image = np.kron(np.pad((1 - np.asarray(code.matrix, np.uint8)) * 255, 4, constant_values=255),
                    np.ones((6, 6), np.uint8)).astype(np.uint8)
    assert decode(image, "zxing").texts == (expected,)
    assert decode(image, "opencv").texts == (expected,)  # OpenCV's UTF-8-only path raised on Shift-JIS


def test_a_shift_jis_code_in_a_folder_does_not_stop_the_batch(tmp_path):
    folder = tmp_path / "photos"
    qr_png(folder / "a_sjis.png", segno.make("日本語", encoding="shift_jis", micro=False).matrix)
    qr_png(folder / "b_plain.png", segno.make("plain text", micro=False).matrix)
    result = qrsr("enhance", folder, "-o", tmp_path / "out", "--decode")
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
    result = qrsr("enhance", tmp_path / "a.png", long_name, "-o", blocker / "sub")
    assert_one_clean_error(result, 2, "blocker.txt")
    assert "2 bad input(s)" in result.stderr  # both reported, the second was tried
    ok = qrsr("enhance", long_name)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert (tmp_path / ("l" * 240 + ".x4.png")).is_file()
    assert not list(tmp_path.glob(".tmp-*"))
    assert_one_clean_error(qrsr("enhance", tmp_path / "a.png", "-o", blocker), 2, "blocker.txt")
    assert blocker.read_text() == "a file where a folder should be"
    assert_one_clean_error(qrsr("enhance", tmp_path / "a.png", "-o", tmp_path / "out.txt"), 2, "out.txt")
    assert not (tmp_path / "out.txt").exists()


def test_demo_and_train_check_their_output_place_before_the_work(tmp_path):
    start = time.monotonic()
    assert_one_clean_error(qrsr("demo", "--n", "2", "--out", "/proc/qrsr-demo/d.png"), 2, "/proc/qrsr-demo")
    assert_one_clean_error(qrsr("train", "--profile", "smoke", "--out", "/proc/qrsr-run"), 2, "/proc/qrsr-run")
    assert time.monotonic() - start < 60  # no training, no evaluation happened first


# --- arguments and sizes ---------------------------------------------------------------------------


@pytest.mark.parametrize("args, fragment", [
    (("train", "--epochs", "-3"), "--epochs -3"),
    (("train", "--epochs", "0"), "--epochs 0"),
    (("train", "--minutes", "0"), "--minutes 0"),
    (("train", "--minutes", "nan"), "--minutes nan"),
    (("data", "--n", "0"), "--n 0"),
    (("data", "--n", "-5"), "--n -5"),
    (("evaluate", "--seed", "-1"), "--seed -1"),
    (("evaluate", "--n", str(10**12)), "--n 1000000000000"),
    (("evaluate", "--n", str(10**8)), "--n 100000000"),
    (("evaluate", "--n", "ten"), "'ten'"),
    (("enhance", "x.png", "--tile", "100000"), "tile=100000"),
])
def test_numeric_arguments_are_checked_in_one_line(args, fragment, tmp_path):
    result = qrsr(*args, cwd=tmp_path, timeout=60)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = our_lines(result)
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in result.stderr, result.stderr


def test_input_names_that_would_do_harm(tmp_path):
    image, _ = code_image()
    write_image(tmp_path / "x.png", image)
    write_image(tmp_path / "x.x4.png", image)  # an earlier output
    assert_one_clean_error(qrsr("enhance", "", cwd=tmp_path), 2, "empty input name")
    assert not list(tmp_path.glob("*.x4.x4.png"))
    glob_run = qrsr("enhance", "*.png", cwd=tmp_path)  # quoted glob: earlier outputs are skipped as in folders
    assert glob_run.returncode == 0 and "skipped 1 earlier output" in glob_run.stderr, glob_run.stderr[-2000:]
    assert not (tmp_path / "x.x4.x4.png").exists()
    clash = qrsr("enhance", "x.png", "x.x4.png", cwd=tmp_path)  # x.png's output would overwrite input 2
    assert_one_clean_error(clash, 2, "would overwrite the input")
    twice = qrsr("enhance", "x.png", str(tmp_path / "x.png"), cwd=tmp_path)
    assert twice.returncode == 0 and "would write" not in twice.stderr, twice.stderr[-2000:]  # one file, once
    (tmp_path / "anim.gif").write_bytes(b"GIF89a")
    assert_one_clean_error(qrsr("enhance", tmp_path / "anim.gif"), 2, "anim.gif", "not a supported image type")


@pytest.mark.parametrize("side", [20_000, 60_000])
def test_huge_images_are_refused_from_their_header(tmp_path, side):
    bomb = png_header_only(tmp_path / "bomb.png", side, side)
    assert_one_clean_error(qrsr("enhance", bomb, "--decode"), 2, "bomb.png", "too large", "--max-pixels")


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


def test_enhance_edge_cases_in_the_api(tmp_path):
    import keras

    from qrsr_helpers import enhance
    from qrsr_helpers.data.folder import load_folder
    from qrsr_helpers.decode import decode

    nearest = keras.Sequential([keras.Input((None, None, 3)), keras.layers.UpSampling2D(4)])
    with pytest.raises(ValueError, match="empty"):
        enhance(np.zeros((0, 5, 3), np.uint8), nearest)
    image, payload = code_image(px=6)
    ink_in_alpha = np.dstack([np.zeros(image.shape + (3,), np.uint8), 255 - image])  # black, shaped by alpha
    out = enhance(ink_in_alpha, nearest)
    assert decode(out, "zxing").texts == (payload,)  # composited over white, as decoders see it
    folder = tmp_path / "folder"
    write_image(folder / "code.png", np.kron(image, np.ones((2, 2), np.uint8)))
    os.mkfifo(folder / "pipe.png")  # reading it would block for ever
    pairs, report = load_folder(folder)
    assert len(pairs) == 1 and any(name == "pipe.png" for name, _ in report.skipped)


def test_locate_prefers_a_plausible_square_over_a_sliver():
    from qrsr_helpers.locate import Region, _plausible

    assert not _plausible(Region((0, 0, 18, 90), "zxing"))
    assert _plausible(Region((0, 0, 40, 44), "zxing"))
