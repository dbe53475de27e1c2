"""The setup cell and the Colab/GPU decisions, with the environment injected (env vars, device counts,
loaded modules) instead of a Colab runtime or a GPU."""

from __future__ import annotations

import email.message
import glob
import importlib.metadata
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from qrsr_helpers import colab, config
from qrsr_helpers.config import ConfigError, get_config

URL = "https://github.com/qrsr-project/qrsr"
# The cell as the house rules spell it out; setup_cell() must produce it byte for byte.
SPEC_CELL = '''\
# Setup: on a fresh runtime this installs qrsr; everywhere it prints versions, devices and the profile.
import glob, importlib.util, os, subprocess, sys
if importlib.util.find_spec("qrsr_helpers") is None:  # fresh runtime: an uploaded wheel, else GitHub
    NEWEST = lambda folder: sorted(glob.glob(folder + "qrsr-*.whl"), key=os.path.getmtime)[-1:]
    WHEEL = NEWEST("") or NEWEST("/content/drive/MyDrive/")  # next to this notebook, else on Drive
    SOURCE = WHEEL[0] if WHEEL else "qrsr @ git+" + os.environ.get("QRSR_REPO_URL", "https://github.com/qrsr-project/qrsr")
    PIP = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", SOURCE],
                         capture_output=True, text=True)
    if PIP.returncode:  # one sentence, not pip's traceback
        SAID = [line.strip() for line in (PIP.stdout + PIP.stderr).splitlines() if line.strip()] or ["nothing"]
        SAID = ([line for line in SAID if line.startswith(("ERROR:", "fatal:"))] or SAID)[-1]
        raise SystemExit(f"Could not install {SOURCE}: upload a qrsr-*.whl built with `python -m pip wheel --no-deps "
                         f"-w dist .` next to this notebook or to MyDrive, or set QRSR_REPO_URL; pip said: {SAID}")
    importlib.invalidate_caches()
from qrsr_helpers.colab import report_environment'''
PIP = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
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


def test_setup_cell_is_the_house_text_with_the_pyproject_url():
    assert colab.repository_url() == URL
    assert colab.setup_cell() == SPEC_CELL
    assert 'get("QRSR_REPO_URL", "https://example.org/fork")' in colab.setup_cell("https://example.org/fork")


def _pyproject(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(text)
    return path


def test_repository_url_reads_pyproject_and_names_it_when_the_entry_is_missing(tmp_path):
    fork = _pyproject(tmp_path, '[project]\nname = "qrsr"\n[project.urls]\nRepository = "https://github.com/me/qrsr"\n')
    assert colab.repository_url(fork) == "https://github.com/me/qrsr"
    broken = _pyproject(tmp_path, '[project]\nname = "qrsr"\n')
    with pytest.raises(LookupError, match="pyproject.toml has no .project.urls. Repository"):
        colab.repository_url(broken)


def _fake_metadata(entries: list[str]):
    def metadata(name):
        assert name == "qrsr"
        message = email.message.Message()
        for entry in entries:
            message["Project-URL"] = entry
        return message
    return metadata


def test_repository_url_falls_back_to_the_installed_metadata(tmp_path, monkeypatch):
    # A pip install from git has no pyproject.toml beside the package, and another project's file
    # there must not be mistaken for ours.
    monkeypatch.setattr(importlib.metadata, "metadata",
                        _fake_metadata(["Homepage, https://example.org", "Repository, https://github.com/x/qrsr"]))
    assert colab.repository_url(tmp_path / "missing.toml") == "https://github.com/x/qrsr"
    other = _pyproject(tmp_path, '[project]\nname = "other"\n[project.urls]\nRepository = "https://wrong"\n')
    assert colab.repository_url(other) == "https://github.com/x/qrsr"
    monkeypatch.setattr(importlib.metadata, "metadata", _fake_metadata(["Homepage, https://example.org"]))
    with pytest.raises(LookupError, match="no Project-URL 'Repository'"):
        colab.repository_url(None)


def test_install_command_uses_the_fork_url_from_the_environment():
    assert colab.install_command({}, found_wheels=[]) == [*PIP, f"qrsr @ git+{URL}"]
    fork = "https://github.com/me/qrsr@my-branch"
    assert colab.install_command({"QRSR_REPO_URL": fork}, found_wheels=[])[-1] == f"qrsr @ git+{fork}"


def test_install_command_prefers_an_uploaded_wheel_to_any_url():
    wheels = ["qrsr-0.1.0-py3-none-any.whl", "/content/drive/MyDrive/qrsr-0.1.0-py3-none-any.whl"]
    assert colab.install_command({"QRSR_REPO_URL": "https://github.com/me/qrsr"}, URL, wheels) == [*PIP, wheels[0]]
    assert colab.install_command({}, URL, wheels[1:]) == [*PIP, wheels[1]]


def _wheel(folder: Path, name: str, mtime: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"PK")
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    """A fresh working folder, and Colab's Drive mount (/content/drive/MyDrive/) redirected to a temporary
    folder for every glob (the setup cell's and find_wheels')."""
    work, drive = tmp_path / "content", tmp_path / "MyDrive"
    work.mkdir()
    monkeypatch.chdir(work)
    real_glob, mount = glob.glob, colab.WHEEL_FOLDERS[1]
    monkeypatch.setattr(glob, "glob", lambda pattern, *a, **k: real_glob(
        f"{drive}/{pattern[len(mount):]}" if pattern.startswith(mount) else pattern, *a, **k))
    return work, drive


def test_find_wheels_takes_the_newest_of_each_folder_the_working_folder_first(runtime):
    work, drive = runtime
    assert colab.find_wheels() == []
    _wheel(drive, "qrsr-0.1.0-py3-none-any.whl", 1_000)
    assert colab.find_wheels() == [f"{drive}/qrsr-0.1.0-py3-none-any.whl"]
    _wheel(work, "qrsr-0.2.0-py3-none-any.whl", 2_000)
    _wheel(work, "qrsr-0.1.0-py3-none-any.whl", 3_000)  # rebuilt last: the newest, whatever its name says
    _wheel(work, "other-9.0-py3-none-any.whl", 4_000)
    assert colab.find_wheels() == ["qrsr-0.1.0-py3-none-any.whl", f"{drive}/qrsr-0.1.0-py3-none-any.whl"]


def test_install_failure_is_one_sentence_with_the_line_that_says_why():
    message = colab.install_failure(f"qrsr @ git+{URL}", GIT_OFFLINE)
    assert message == (f"Could not install qrsr @ git+{URL}: {colab.HOW_TO_FIX}; pip said: fatal: unable to access "
                       "'https://github.com/qrsr-project/qrsr/': Could not resolve host: github.com")
    assert "\n" not in message and "python -m pip wheel --no-deps -w dist ." in message
    missing = ("WARNING: Requirement 'q.whl' looks like a filename, but the file does not exist\n"
               "ERROR: Could not install packages due to an OSError: [Errno 2] No such file or directory: 'q.whl'\n")
    assert colab.install_failure("q.whl", missing).endswith("pip said: ERROR: Could not install packages due to an "
                                                             "OSError: [Errno 2] No such file or directory: 'q.whl'")
    assert colab.install_failure("q.whl", "\n  odd last words \n\n").endswith("pip said: odd last words")
    assert colab.install_failure("q.whl", "").endswith("pip said: nothing")


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
    exec(compile(colab.setup_cell(), "setup-cell", "exec"), namespace)
    assert namespace["report_environment"] is colab.report_environment
    return calls


@pytest.mark.parametrize("wheels, expected", [
    ({}, "git"),
    ({"content": ["qrsr-0.1.0-py3-none-any.whl"]}, "content/qrsr-0.1.0-py3-none-any.whl"),
    ({"MyDrive": ["qrsr-0.1.0-py3-none-any.whl"]}, "MyDrive/qrsr-0.1.0-py3-none-any.whl"),
    ({"content": ["qrsr-0.1.0-py3-none-any.whl", "qrsr-0.1.1-py3-none-any.whl"],  # the last one written wins
      "MyDrive": ["qrsr-0.2.0-py3-none-any.whl"]}, "content/qrsr-0.1.1-py3-none-any.whl"),
])
@pytest.mark.parametrize("fork", [None, "https://github.com/me/qrsr"])
def test_setup_cell_installs_what_plan_setup_says_on_a_fresh_runtime(monkeypatch, runtime, wheels, expected, fork):
    if fork:
        monkeypatch.setenv("QRSR_REPO_URL", fork)
    else:
        monkeypatch.delenv("QRSR_REPO_URL", raising=False)
    root = runtime[0].parent
    for folder, names in wheels.items():
        for age, name in enumerate(names):
            _wheel(root / folder, name, 1_000 + age)
    calls = _run_setup_cell(monkeypatch, importable=False)
    plan = colab.plan_setup(importable=False, devices=NO_DEVICES)
    assert calls == [(plan.install, {"capture_output": True, "text": True})]
    source = calls[0][0][-1]
    if expected == "git":
        assert source == f"qrsr @ git+{fork or URL}"
    else:
        assert Path(source).resolve() == (root / expected).resolve()  # relative to the working folder


def test_setup_cell_stops_with_one_sentence_when_pip_fails(monkeypatch, runtime):
    monkeypatch.delenv("QRSR_REPO_URL", raising=False)
    with pytest.raises(SystemExit) as stop:
        _run_setup_cell(monkeypatch, importable=False, returncode=1, stderr=GIT_OFFLINE)
    assert str(stop.value) == colab.install_failure(f"qrsr @ git+{URL}", GIT_OFFLINE)
    assert "\n" not in str(stop.value) and str(stop.value).endswith("Could not resolve host: github.com")


def test_setup_cell_installs_nothing_when_the_package_is_importable(monkeypatch, runtime):
    _wheel(runtime[0], "qrsr-0.1.0-py3-none-any.whl", 1_000)
    assert _run_setup_cell(monkeypatch, importable=True) == []
    assert colab.plan_setup(importable=True, devices=NO_DEVICES).install is None


@pytest.mark.parametrize("environ, modules, expected", [
    ({"COLAB_RELEASE_TAG": "release-colab_20250601-060000"}, (), True),
    ({"COLAB_GPU": ""}, (), True),  # set, empty, on a CPU runtime: presence is what counts
    ({}, ("google.colab",), True),
    ({}, ("IPython",), False),
    ({"COLAB_RELEASE_TAG": "x", "KAGGLE_KERNEL_RUN_TYPE": "Interactive"}, (), False),  # Kaggle's Colab-based image
])
def test_on_colab(environ, modules, expected):
    assert colab.on_colab(environ, modules) is expected


def _no_tensorflow():
    raise AssertionError("devices were asked for although the profile was already decided")


@pytest.mark.parametrize("explicit, environ, devices, expected", [
    ("cpu", {"QRSR_PROFILE": "smoke"}, {"GPU": 1}, ("cpu", "set in the parameters cell")),
    (None, {"QRSR_PROFILE": " smoke "}, {"GPU": 1}, ("smoke", "from $QRSR_PROFILE")),
    (None, {"QRSR_PROFILE": ""}, {"GPU": 2, "TPU": 0}, ("gpu", "a GPU is present")),
    (None, {}, {"TPU": 8}, ("gpu", "a TPU is present")),
    (None, {}, {"GPU": 0, "TPU": 0}, ("cpu", "no GPU or TPU found")),
    (None, {}, {}, ("cpu", "no GPU or TPU found")),
])
def test_profile_choice_order(monkeypatch, explicit, environ, devices, expected):
    assert config.profile_choice(explicit, environ, devices) == expected
    assert config.choose_profile(explicit, environ, devices) == expected[0]
    if explicit or environ.get("QRSR_PROFILE", "").strip():
        monkeypatch.setattr(config, "accelerators", _no_tensorflow)  # decided without TensorFlow
        assert config.choose_profile(explicit, environ) == expected[0]


def test_profile_choice_asks_tensorflow_only_when_it_decides(monkeypatch):
    monkeypatch.setattr(config, "accelerators", lambda: {"GPU": 1, "TPU": 0})
    assert config.choose_profile(None, {}) == "gpu"
    monkeypatch.delenv("QRSR_PROFILE")
    assert get_config(None).profile == "gpu"  # get_config's default is this choice


@pytest.mark.parametrize("explicit, environ, named", [
    ("tpu", {}, "'tpu' (set in the parameters cell)"),
    (None, {"QRSR_PROFILE": "GPU"}, "'GPU' (from $QRSR_PROFILE)"),
])
def test_unknown_profile_is_named_with_its_source(explicit, environ, named):
    with pytest.raises(ConfigError, match=re.escape(f"profile={named} is not one of")):
        config.choose_profile(explicit, environ, NO_DEVICES)


def test_plan_fresh_colab_cpu_runtime_installs_and_says_how_to_get_a_gpu():
    plan = colab.plan_setup(False, {"COLAB_RELEASE_TAG": "x", "COLAB_GPU": "0"}, NO_DEVICES, modules=(),
                            found_wheels=[])
    assert plan.install == [*PIP, f"qrsr @ git+{URL}"]
    assert (plan.colab, plan.accelerator, plan.profile) == (True, None, "cpu")
    assert len(plan.notes) == 1 and "Change runtime type > T4 GPU" in plan.notes[0]


def test_plan_colab_gpu_runtime_picks_gpu_and_warns_about_the_vgg_download():
    plan = colab.plan_setup(True, {"COLAB_RELEASE_TAG": "x", "COLAB_GPU": "1"}, {"GPU": 1, "TPU": 0}, modules=())
    assert (plan.install, plan.colab, plan.accelerator, plan.profile) == (None, True, "GPU", "gpu")
    assert get_config("gpu").vgg_weights == "imagenet"
    assert len(plan.notes) == 1 and "~80 MB into ~/.keras/models" in plan.notes[0]
    # A local VGG file (QRSR_VGG_WEIGHTS) means no download: nothing to warn about.
    local = colab.plan_setup(True, {"COLAB_GPU": "1", "QRSR_VGG_WEIGHTS": "/content/vgg19.h5"}, {"GPU": 1}, modules=())
    assert local.notes == []


def test_plan_tpu_runtime_says_the_tpu_path_is_untested():
    plan = colab.plan_setup(True, {"COLAB_RELEASE_TAG": "x"}, {"GPU": 0, "TPU": 8}, modules=())
    assert (plan.accelerator, plan.profile) == ("TPU", "gpu")
    assert any("TPUStrategy" in note and "untested" in note for note in plan.notes)


def test_plan_gpu_profile_forced_on_a_cpu_warns_about_hours():
    plan = colab.plan_setup(True, {}, NO_DEVICES, explicit="gpu", modules=())
    assert plan.colab is False and plan.profile == "gpu"
    assert any("hours" in note for note in plan.notes)


def test_plan_ci_run_is_quiet():
    plan = colab.plan_setup(True, {"QRSR_PROFILE": "smoke"}, NO_DEVICES, modules=())
    assert (plan.install, plan.colab, plan.profile, plan.notes) == (None, False, "smoke", [])


def test_report_environment_prints_versions_devices_and_the_profile_with_its_reason(capsys, monkeypatch):
    import keras
    import tensorflow as tf

    monkeypatch.setenv("QRSR_PROFILE", "smoke")
    assert colab.report_environment() == "smoke"
    line = capsys.readouterr().out.splitlines()[0]
    assert f"TensorFlow {tf.__version__}" in line and f"Keras {keras.__version__}" in line
    devices = colab.accelerators()
    assert f"GPUs {devices['GPU']} TPUs {devices['TPU']}" in line
    assert line.endswith("profile: smoke (from $QRSR_PROFILE)")
    assert colab.report_environment("cpu") == "cpu"
    assert "profile: cpu (set in the parameters cell)" in capsys.readouterr().out


def test_colab_url_opens_a_repository_notebook():
    assert (colab.colab_url("notebooks/01_data_preparation.ipynb", URL + ".git") ==
            "https://colab.research.google.com/github/qrsr-project/qrsr/blob/main/notebooks/01_data_preparation.ipynb")
    with pytest.raises(ValueError, match="GitHub only"):
        colab.colab_url("notebooks/a.ipynb", "https://gitlab.com/x/qrsr")


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
    """One check behind the upload button, the inline JPEG figures and the progress bars (config.in_notebook_kernel)."""
    from types import SimpleNamespace

    from qrsr_helpers.config import in_notebook_kernel

    shell = lambda name: SimpleNamespace(get_ipython=lambda: type(name, (), {})())
    assert in_notebook_kernel({"IPython": shell("ZMQInteractiveShell")})
    assert not in_notebook_kernel({"IPython": shell("TerminalInteractiveShell")})
    assert not in_notebook_kernel({"IPython": SimpleNamespace(get_ipython=lambda: None)})  # imported, no shell
    assert not in_notebook_kernel({}) and not in_notebook_kernel(["IPython"])  # not loaded; not a Mapping
