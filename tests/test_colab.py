"""Every notebook's setup cell (its real text, executed with pip and the file system faked) and the Colab/GPU
advice, with the environment injected (env vars, device counts, loaded modules) instead of a Colab runtime."""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from qrsr_helpers import colab

ROOT = Path(__file__).resolve().parents[1]
URL = re.search(r'^Repository = "(.+)"$', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M)[1]
SETUP_CELL = nbformat.read(ROOT / "notebooks" / "01_data_preparation.ipynb", as_version=4).cells[1].source
DRIVE = "/content/drive/MyDrive/"  # Colab's Drive mount, the setup cell's second wheel folder
PIP = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
HOW_TO_FIX = ("upload a qrsr-*.whl built with `python -m pip wheel --no-deps -w dist .` next to this notebook or to "
              "MyDrive, or set QRSR_REPO_URL")
# What pip 26 prints (stderr) for `pip install "qrsr @ git+https://github.com/qrsr-project/qrsr"` without network.
GIT_OFFLINE = '''\
  error: subprocess-exited-with-error

  × git clone --filter=blob:none --quiet https://github.com/qrsr-project/qrsr /tmp/pip-x/q did not run successfully.
  │ exit code: 128
  ╰─> [1 lines of output]
      fatal: unable to access 'https://github.com/qrsr-project/qrsr/': Could not resolve host: github.com
      [end of output]

  note: This error originates from a subprocess, and is likely not a problem with pip.
error: subprocess-exited-with-error

× git clone --filter=blob:none --quiet https://github.com/qrsr-project/qrsr /tmp/pip-x/q did not run successfully.
│ exit code: 128
╰─> See above for output.

note: This error originates from a subprocess, and is likely not a problem with pip.
'''
NO_DEVICES = {"GPU": 0, "TPU": 0}


def test_setup_cell_installs_from_the_pyproject_repository_url():
    assert SETUP_CELL.startswith("# Setup: ") and f'get("QRSR_REPO_URL", "{URL}")' in SETUP_CELL


def _wheel(folder: Path, name: str, mtime: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"PK")
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    """A fresh working folder, and Colab's Drive mount redirected to a temporary folder for the cell's globs."""
    work, drive = tmp_path / "content", tmp_path / "MyDrive"
    work.mkdir()
    monkeypatch.chdir(work)
    real_glob = glob.glob
    monkeypatch.setattr(glob, "glob", lambda pattern, *a, **k: real_glob(
        f"{drive}/{pattern[len(DRIVE):]}" if pattern.startswith(DRIVE) else pattern, *a, **k))
    return work, drive


def _run_setup_cell(monkeypatch, importable: bool, returncode: int = 0, stderr: str = "") -> list:
    """Execute the real cell text; find_spec and pip are the only things replaced."""
    calls = []
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: (real_find_spec(name, *a) if importable or name != "qrsr_helpers" else None))

    def pip(command, **kwargs):
        calls.append((command, kwargs))
        return subprocess.CompletedProcess(command, returncode, stdout="", stderr=stderr)

    monkeypatch.setattr(subprocess, "run", pip)
    namespace = {}
    exec(compile(SETUP_CELL, "setup-cell", "exec"), namespace)
    assert namespace["report_environment"] is colab.report_environment
    return calls


@pytest.mark.parametrize("wheels, expected", [
    ({}, "git"),
    ({"content": ["qrsr-0.1.0-py3-none-any.whl"]}, "content/qrsr-0.1.0-py3-none-any.whl"),
    ({"MyDrive": ["qrsr-0.1.0-py3-none-any.whl"]}, "MyDrive/qrsr-0.1.0-py3-none-any.whl"),
    ({"content": ["qrsr-0.1.0-py3-none-any.whl", "qrsr-0.1.1-py3-none-any.whl"],  # the last one written wins
      "MyDrive": ["qrsr-0.2.0-py3-none-any.whl"]}, "content/qrsr-0.1.1-py3-none-any.whl"),
    ({"content": ["qrsr-0.2.0-py3-none-any.whl", "qrsr-0.1.0-py3-none-any.whl", "other-9.0-py3-none-any.whl"]},
     "content/qrsr-0.1.0-py3-none-any.whl"),  # the newest, whatever its name says; not another project's
])
@pytest.mark.parametrize("fork", [None, "https://github.com/me/qrsr@my-branch"])
def test_setup_cell_installs_a_wheel_else_the_repository_on_a_fresh_runtime(monkeypatch, runtime, wheels, expected,
                                                                             fork):
    if fork:
        monkeypatch.setenv("QRSR_REPO_URL", fork)
    else:
        monkeypatch.delenv("QRSR_REPO_URL", raising=False)
    root = runtime[0].parent
    for folder, names in wheels.items():
        for age, name in enumerate(names):
            _wheel(root / folder, name, 1_000 + age)
    calls = _run_setup_cell(monkeypatch, importable=False)
    assert len(calls) == 1 and calls[0][1] == {"capture_output": True, "text": True}
    assert calls[0][0][:-1] == PIP
    source = calls[0][0][-1]
    if expected == "git":
        assert source == f"qrsr @ git+{fork or URL}"
    else:
        assert Path(source).resolve() == (root / expected).resolve()  # relative to the working folder


@pytest.mark.parametrize("pip_output, said", [
    (GIT_OFFLINE, "fatal: unable to access 'https://github.com/qrsr-project/qrsr/': Could not resolve host: "
                  "github.com"),
    ("WARNING: Requirement 'q.whl' looks like a filename, but the file does not exist\n"
     "ERROR: Could not install packages due to an OSError: [Errno 2] No such file or directory: 'q.whl'\n",
     "ERROR: Could not install packages due to an OSError: [Errno 2] No such file or directory: 'q.whl'"),
    ("\n  odd last words \n\n", "odd last words"),
    ("", "nothing"),
])
def test_setup_cell_stops_with_one_sentence_when_pip_fails(monkeypatch, runtime, pip_output, said):
    monkeypatch.delenv("QRSR_REPO_URL", raising=False)
    with pytest.raises(SystemExit) as stop:
        _run_setup_cell(monkeypatch, importable=False, returncode=1, stderr=pip_output)
    assert str(stop.value) == f"Could not install qrsr @ git+{URL}: {HOW_TO_FIX}; pip said: {said}"


def test_setup_cell_installs_nothing_when_the_package_is_importable(monkeypatch, runtime):
    _wheel(runtime[0], "qrsr-0.1.0-py3-none-any.whl", 1_000)
    assert _run_setup_cell(monkeypatch, importable=True) == []


@pytest.mark.parametrize("environ, modules, expected", [
    ({"COLAB_RELEASE_TAG": "release-colab_20250601-060000"}, (), True),
    ({"COLAB_GPU": ""}, (), True),  # set, empty, on a CPU runtime: presence is what counts
    ({}, ("google.colab",), True),
    ({}, ("IPython",), False),
    ({"COLAB_RELEASE_TAG": "x", "KAGGLE_KERNEL_RUN_TYPE": "Interactive"}, (), False),  # Kaggle's Colab-based image
])
def test_on_colab(environ, modules, expected):
    assert colab.on_colab(environ, modules) is expected


def test_colab_cpu_runtime_is_told_how_to_get_a_gpu():
    notes = colab.setup_notes("cpu", NO_DEVICES, colab=True, environ={})
    assert len(notes) == 1 and "Change runtime type > T4 GPU" in notes[0]


def test_gpu_profile_warns_about_the_vgg_download_unless_a_local_file_is_set():
    notes = colab.setup_notes("gpu", {"GPU": 1, "TPU": 0}, colab=True, environ={})
    assert len(notes) == 1 and "~80 MB into ~/.keras/models" in notes[0]
    assert colab.setup_notes("gpu", {"GPU": 1}, colab=True, environ={"QRSR_VGG_WEIGHTS": "/content/vgg19.h5"}) == []


def test_tpu_runtime_is_told_the_tpu_path_is_untested():
    notes = colab.setup_notes("gpu", {"GPU": 0, "TPU": 8}, colab=True, environ={"QRSR_VGG_WEIGHTS": "x.h5"})
    assert len(notes) == 1 and "TPUStrategy" in notes[0] and "untested" in notes[0]


def test_gpu_profile_forced_on_a_cpu_warns_about_hours():
    assert any("hours" in note for note in colab.setup_notes("gpu", NO_DEVICES, colab=False, environ={}))


def test_ci_run_is_quiet():
    assert colab.setup_notes("smoke", NO_DEVICES, colab=False, environ={"QRSR_PROFILE": "smoke"}) == []


def test_report_environment_prints_versions_devices_and_the_profile_with_its_reason(capsys, monkeypatch):
    import keras
    import tensorflow as tf

    from qrsr_helpers.environment import accelerators

    monkeypatch.setenv("QRSR_PROFILE", "smoke")
    assert colab.report_environment() == "smoke"
    line = capsys.readouterr().out.splitlines()[0]
    assert f"TensorFlow {tf.__version__}" in line and f"Keras {keras.__version__}" in line
    devices = accelerators()
    assert f"GPUs {devices['GPU']} TPUs {devices['TPU']}" in line
    assert line.endswith("profile: smoke (from $QRSR_PROFILE)")
    assert colab.report_environment("cpu") == "cpu"
    assert "profile: cpu (set in the parameters cell)" in capsys.readouterr().out


def test_upload_control_is_none_where_nobody_can_click():
    assert colab.upload_control(environ={}, modules={}) is None  # a script or CI: no kernel, no Colab


def test_uploaded_photo_reads_colab_and_widget_uploads(tmp_path):
    class Widget:  # what ipywidgets 8's FileUpload holds after a pick
        value = ({"name": "../escape/photo.jpg", "content": memoryview(b"jpeg bytes")},)

    assert colab.uploaded_photo(None, tmp_path) is None
    assert colab.uploaded_photo({}, tmp_path) is None
    from_colab = colab.uploaded_photo({"shot.png": b"png bytes"}, tmp_path)
    assert from_colab == tmp_path / "shot.png" and from_colab.read_bytes() == b"png bytes"
    from_widget = colab.uploaded_photo(Widget(), tmp_path)
    assert from_widget == tmp_path / "photo.jpg" and from_widget.read_bytes() == b"jpeg bytes"  # no path escape


def test_only_a_zmq_kernel_counts_as_a_notebook():
    """One check behind the upload button, the inline JPEG figures and the progress bars."""
    from types import SimpleNamespace

    from qrsr_helpers.environment import in_notebook_kernel

    shell = lambda name: SimpleNamespace(get_ipython=lambda: type(name, (), {})())
    assert in_notebook_kernel({"IPython": shell("ZMQInteractiveShell")})
    assert not in_notebook_kernel({"IPython": shell("TerminalInteractiveShell")})
    assert not in_notebook_kernel({"IPython": SimpleNamespace(get_ipython=lambda: None)})  # imported, no shell
    assert not in_notebook_kernel({}) and not in_notebook_kernel(["IPython"])  # not loaded; not a Mapping
