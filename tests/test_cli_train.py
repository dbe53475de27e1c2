"""``qrsr train --stage gan`` refuses, in one line and with exit status 2, what it cannot train as asked, before
any data is generated: no stage-1 generator, a Keras backend without the TensorFlow step, VGG19 weights that
cannot be had for a VGG content loss."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def qrsr_train(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env}
    return subprocess.run([sys.executable, "-m", "qrsr_helpers.cli", "train", *args], capture_output=True, text=True,
                          env=environ, timeout=300)


def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.strip() and "qrsr train: error:" in line]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    return lines[0]


def test_a_gan_stage_without_a_stage1_generator_is_refused(tmp_path):
    line = one_line_error(qrsr_train("--profile", "smoke", "--stage", "gan", "--out", str(tmp_path / "run")))
    assert "--init pretrained" in line and "--stage both" in line
    assert not (tmp_path / "run" / "run.json").exists()


@pytest.mark.skipif(not __import__("importlib.util").util.find_spec("jax"), reason="needs JAX")
def test_the_gan_stage_on_another_backend_is_refused(tmp_path):
    line = one_line_error(qrsr_train("--profile", "smoke", "--stage", "gan", "--init", "pretrained", "--out",
                                     str(tmp_path / "run"), KERAS_BACKEND="jax"))
    assert "tensorflow" in line and "'jax'" in line and "train_srgan_bundled.py" in line


def test_missing_vgg_weights_on_the_gpu_profile_are_refused(tmp_path):
    missing = tmp_path / "vgg19_notop.h5"
    line = one_line_error(qrsr_train("--profile", "gpu", "--stage", "gan", "--init", "pretrained", "--out",
                                     str(tmp_path / "run"), QRSR_VGG_WEIGHTS=str(missing)))
    assert str(missing) in line
