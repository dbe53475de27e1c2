"""What every ``qrsr`` command shares (cases from the hostile passes that cross commands): a learner's weights load
in every command, output places and numeric arguments are checked before the work. One file per command holds the
rest (``test_cli_<command>.py``).

CLI cases run ``qrsr`` as a subprocess, as a user would; each checks the exit status (0 done, 1 nothing
decoded, 2 bad input or argument, 130 interrupted), that stderr names the file or value in one line
and never holds a traceback, and that nothing half-written is left behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from support import ENV, assert_one_clean_error, code_image, our_lines, qrsr

from qrsr_helpers.io import read_image, write_image

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


# --- one bad file or payload never stops a batch ---------------------------------------------------


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




def test_enhance_help_states_the_defaults_the_code_uses():
    """``--help`` spells ``--tile`` and ``--max-pixels`` defaults as literals (importing ``inference`` for them would
    load TensorFlow's neighbours on ``qrsr --help``): they must not drift from the constants the code applies."""
    from qrsr_helpers.cli import build_parser
    from qrsr_helpers.inference import TILE
    from qrsr_helpers.io import MAX_PIXELS

    enhance = build_parser()._subparsers._group_actions[0].choices["enhance"]
    text = " ".join(enhance.format_help().split())
    assert f"(default {TILE})" in text and f"(default {MAX_PIXELS:,})" in text
