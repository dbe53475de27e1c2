"""``qrsr train --stage gan`` refuses, in one line and with exit status 2, what it cannot train as asked, before
any data is generated: no stage-1 generator, a Keras backend without the TensorFlow step, VGG19 weights that
cannot be had for a VGG content loss; a killed run resumes from its backup, and a broken backup never blocks it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from support import ENV


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


def _run_until_epochs(command, env, history: Path, epochs: int) -> None:
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and first.poll() is None:
        if history.is_file() and len(history.read_text().splitlines()) > epochs:
            break
        time.sleep(0.2)
    assert first.poll() is None, "the run ended before it could be killed"
    first.send_signal(signal.SIGKILL)
    first.wait()


def _train_command(out: Path) -> list[str]:
    return [sys.executable, "-m", "qrsr_helpers.cli", "train", "--profile", "smoke", "--stage", "pretrain",
            "--out", str(out), "--epochs", "8"]


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory):
    """A run folder killed (SIGKILL) after its third epoch, and the data folder it trained on; each test damages
    a copy of it."""
    folder = tmp_path_factory.mktemp("killed")
    env = {**ENV, "QRSR_DATA_DIR": str(folder / "data")}
    _run_until_epochs(_train_command(folder / "run"), env, folder / "run" / "history_pretrain.csv", 3)
    return folder / "run", env


def _epochs_in(history_csv: Path) -> list[int]:
    import csv

    with open(history_csv) as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["none", "latest", "everything"])
def test_a_killed_run_resumes_and_a_broken_backup_never_blocks_the_rerun(killed_run, tmp_path, damage):
    """A real `qrsr train` SIGKILLed part-way resumes from its backup when re-run (damage "none"). A kill while
    Keras rewrites its backup leaves a 0-byte file: the previous backup is used; when every backup file is broken
    the folder is set aside with a message and the stage starts over."""
    import shutil

    out, env = tmp_path / "run", killed_run[1]
    shutil.copytree(killed_run[0], out)
    command = _train_command(out)
    done_before = _epochs_in(out / "history_pretrain.csv")
    assert 3 <= len(done_before) < 8
    backup = out / "backup_pretrain"
    files = sorted(p for p in backup.rglob("*") if p.is_file())
    assert any(p.name.endswith(".weights.h5") for p in files), files
    for path in files:
        if damage == "everything" or damage == "latest" and path.name in ("latest.weights.h5",
                                                                          "training_metadata.json"):
            path.write_bytes(b"" if path.suffix == ".h5" else b"{not json")
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr[-3000:]
    if damage == "everything":
        assert "moved it to" in again.stdout and list(tmp_path.glob("run/backup_pretrain.unreadable-*"))
    else:
        assert "Epoch 1/8" not in again.stdout, again.stdout[-2000:]  # resumed from the previous backup
    if damage == "none":  # resumed where the kill left it, not from scratch, and finished the run
        epochs = _epochs_in(out / "history_pretrain.csv")
        resumed = epochs[len(done_before):]
        assert resumed and resumed[0] >= len(done_before) - 1 and resumed[-1] == 7, epochs
    from qrsr_helpers.models import load_pretrained

    generator = load_pretrained(out / "generator_pretrain.weights.h5", "keras")
    assert all(np.isfinite(w).all() for w in generator.get_weights())
