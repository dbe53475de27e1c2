"""What every notebook's setup cell (the first code cell, under the title) does: install on a fresh
runtime, then report versions, devices and the profile.

The setup cell itself can only use the standard library (``qrsr_helpers`` is not importable before the
install), so its text is generated here (:func:`setup_cell`) and the decisions it and
:func:`report_environment` make live in one pure function, :func:`plan_setup`, which the tests call
with an injected environment (Colab or not, GPU/TPU or not) instead of mocking TensorFlow away.

What it installs, first found first (:func:`install_command`): the newest ``qrsr-*.whl`` in the working
folder (uploaded next to the notebook), else the newest in ``/content/drive/MyDrive/`` (Colab's Drive
mount), else ``qrsr @ git+<URL>``. The URL has one source of truth: ``[project.urls] Repository`` in
``pyproject.toml`` (read from the checkout when there is one, else from the installed package's
metadata, which pip built from that same file); ``QRSR_REPO_URL`` overrides it at run time, so a fork's
notebooks install the fork. When pip fails (no network, a wrong URL, a broken wheel) the cell stops with
one sentence (:func:`install_failure`), not pip's traceback.
"""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .config import accelerators, in_notebook_kernel, profile_choice

DISTRIBUTION = "qrsr"  # the pip name; the import name is qrsr_helpers
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

WHEEL_PATTERN = "qrsr-*.whl"  # what `python -m pip wheel --no-deps -w dist .` writes
WHEEL_FOLDERS = ("", "/content/drive/MyDrive/")  # searched in this order: the working folder, Colab's Drive mount
HOW_TO_FIX = ("upload a qrsr-*.whl built with `python -m pip wheel --no-deps -w dist .` next to this notebook or to "
              "MyDrive, or set QRSR_REPO_URL")  # the setup cell spells it out too (tests/test_colab.py compares)

# install_command(find_wheels()) and install_failure(), written out in the standard library (tests compare them).
_SETUP_CELL = '''\
# Setup: on a fresh runtime this installs qrsr; everywhere it prints versions, devices and the profile.
import glob, importlib.util, os, subprocess, sys
if importlib.util.find_spec("qrsr_helpers") is None:  # fresh runtime: an uploaded wheel, else GitHub
    NEWEST = lambda folder: sorted(glob.glob(folder + "{pattern}"), key=os.path.getmtime)[-1:]
    WHEEL = NEWEST("{folders[0]}") or NEWEST("{folders[1]}")  # next to this notebook, else on Drive
    SOURCE = WHEEL[0] if WHEEL else "qrsr @ git+" + os.environ.get("QRSR_REPO_URL", "{url}")
    PIP = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", SOURCE],
                         capture_output=True, text=True)
    if PIP.returncode:  # one sentence, not pip's traceback
        SAID = [line.strip() for line in (PIP.stdout + PIP.stderr).splitlines() if line.strip()] or ["nothing"]
        SAID = ([line for line in SAID if line.startswith(("ERROR:", "fatal:"))] or SAID)[-1]
        raise SystemExit(f"Could not install {{SOURCE}}: upload a qrsr-*.whl built with `python -m pip wheel --no-deps "
                         f"-w dist .` next to this notebook or to MyDrive, or set QRSR_REPO_URL; pip said: {{SAID}}")
    importlib.invalidate_caches()
from qrsr_helpers.colab import report_environment'''


def repository_url(pyproject: Path | None = PYPROJECT) -> str:
    """``[project.urls] Repository``: from ``pyproject`` when that file exists (a checkout or an
    editable install, so an edit shows at once), else from the installed distribution's metadata."""
    try:
        import tomllib  # Python >= 3.11; on 3.10 even a checkout reads the metadata below
    except ImportError:
        tomllib = None
    project = {}
    if tomllib is not None and pyproject is not None and pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    if project.get("name") == DISTRIBUTION:  # not some other project's file beside an installed package
        urls = project.get("urls", {})
        if "Repository" not in urls:
            raise LookupError(f"{pyproject} has no [project.urls] Repository entry (the notebooks' install URL)")
        return urls["Repository"]
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        entries = metadata(DISTRIBUTION).get_all("Project-URL") or []
    except PackageNotFoundError as error:
        raise LookupError(f"neither {pyproject} nor an installed {DISTRIBUTION!r} distribution names the "
                       "repository URL") from error
    for entry in entries:  # "Repository, https://..."
        label, _, url = entry.partition(",")
        if label.strip() == "Repository":
            return url.strip()
    raise LookupError(f"the installed {DISTRIBUTION!r} metadata has no Project-URL 'Repository': {entries}")


def setup_cell(url: str | None = None) -> str:
    """The exact source of every notebook's setup cell (the first code cell, tag ``setup``), installing from ``url``
    (default: :func:`repository_url`) when no wheel was uploaded."""
    return _SETUP_CELL.format(url=url or repository_url(), pattern=WHEEL_PATTERN, folders=WHEEL_FOLDERS)


def find_wheels(folders: Sequence[str] = WHEEL_FOLDERS, pattern: str = WHEEL_PATTERN) -> list[str]:
    """The newest (last modified) ``qrsr-*.whl`` of each folder that holds one, in the order of ``folders``
    (each a prefix ending in "/", or "" for the working folder): what the setup cell looks for."""
    return [found[-1] for folder in folders if (found := sorted(glob.glob(folder + pattern), key=os.path.getmtime))]


def install_command(environ: Mapping[str, str] = os.environ, url: str | None = None,
                    found_wheels: Sequence[str] | None = None) -> list[str]:
    """What the setup cell runs when ``qrsr_helpers`` is missing: pip on the first of ``found_wheels``
    (default: :func:`find_wheels`), else on the repository at ``QRSR_REPO_URL`` or ``url``."""
    found_wheels = find_wheels() if found_wheels is None else found_wheels
    if found_wheels:
        source = found_wheels[0]
    else:
        source = f"{DISTRIBUTION} @ git+{environ.get('QRSR_REPO_URL', url or repository_url())}"
    return [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", source]


def install_failure(source: str, pip_output: str) -> str:
    """The one sentence the setup cell stops with when pip fails on ``source``: what to do, and pip's
    telling line (its last ``ERROR:`` or git ``fatal:`` line, else its last line)."""
    lines = [line.strip() for line in pip_output.splitlines() if line.strip()] or ["nothing"]
    said = ([line for line in lines if line.startswith(("ERROR:", "fatal:"))] or lines)[-1]
    return f"Could not install {source}: {HOW_TO_FIX}; pip said: {said}"


def colab_url(notebook: str | os.PathLike, url: str | None = None, branch: str = "main") -> str:
    """The "Open in Colab" address of a notebook in the repository (a path relative to its root):
    Colab opens any public GitHub notebook as ``colab.research.google.com/github/<owner>/<repo>/blob/...``."""
    repo = (url or repository_url()).rstrip("/").removesuffix(".git")
    prefix = "https://github.com/"
    if not repo.startswith(prefix):
        raise ValueError(f"Colab opens notebooks from GitHub only; the repository URL is {repo!r}")
    return f"https://colab.research.google.com/github/{repo[len(prefix):]}/blob/{branch}/{Path(notebook).as_posix()}"


def on_colab(environ: Mapping[str, str] = os.environ, modules: Collection[str] = sys.modules) -> bool:
    """Whether this is a Google Colab runtime. Colab sets ``COLAB_RELEASE_TAG`` (and ``COLAB_GPU``, empty
    or "0" without a GPU: only its presence counts) and preloads ``google.colab``. Kaggle builds on the
    Colab image, so it sets ``COLAB_RELEASE_TAG`` too: ``KAGGLE_KERNEL_RUN_TYPE`` rules it out."""
    if "KAGGLE_KERNEL_RUN_TYPE" in environ:
        return False
    return "COLAB_RELEASE_TAG" in environ or "COLAB_GPU" in environ or "google.colab" in modules


@dataclass(frozen=True)
class SetupPlan:
    """What the setup cell and :func:`report_environment` do on one runtime."""

    install: list[str] | None  # the pip command to run first, or None when qrsr_helpers is importable
    colab: bool
    accelerator: str | None  # "TPU", "GPU" or None
    profile: str
    reason: str  # why that profile
    notes: list[str] = field(default_factory=list)  # advice printed under the environment line


def plan_setup(importable: bool, environ: Mapping[str, str] = os.environ, devices: Mapping[str, int] | None = None,
               explicit: str | None = None, modules: Collection[str] = sys.modules,
               url: str | None = None, found_wheels: Sequence[str] | None = None) -> SetupPlan:
    """Decide, without side effects, what a notebook's setup does here: install what (``found_wheels``
    default: :func:`find_wheels`, a look at the wheel folders) or nothing, which profile and which advice
    (a Colab runtime without a GPU, the VGG download, a TPU)."""
    from .config import get_config

    devices = accelerators() if devices is None else devices
    colab = on_colab(environ, modules)
    accelerator = next((kind for kind in ("TPU", "GPU") if devices.get(kind, 0)), None)
    profile, reason = profile_choice(explicit, environ, devices)
    notes = []
    if colab and accelerator is None:
        notes.append("Colab runtime without a GPU: Runtime > Change runtime type > T4 GPU, then run the notebook "
                     "again (the cpu profile works here too, at laptop speed).")
    if profile == "gpu" and accelerator is None:
        notes.append("profile 'gpu' without a GPU or TPU: its full-scale training will take hours on this CPU.")
    if accelerator == "TPU":
        notes.append("TPU: training uses TPUStrategy and mixed_bfloat16; this path is untested, a GPU runtime is "
                     "the tested one.")
    config = get_config(profile)
    if config.content_loss != "pixel" and config.vgg_weights == "imagenet" and not environ.get("QRSR_VGG_WEIGHTS"):
        notes.append(f"profile {profile!r} uses ImageNet VGG19 features: the first GAN run downloads ~80 MB into "
                     "~/.keras/models (once per runtime; offline, set QRSR_VGG_WEIGHTS=/path/to/"
                     "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5).")
    return SetupPlan(install=None if importable else install_command(environ, url, found_wheels), colab=colab,
                     accelerator=accelerator, profile=profile, reason=reason, notes=notes)


def report_environment(profile: str | None = None) -> str:
    """Print (and return) versions, devices, the profile and why, plus advice for this runtime."""
    from importlib.metadata import version

    import keras
    import tensorflow as tf

    devices = accelerators()
    plan = plan_setup(importable=True, devices=devices, explicit=profile)
    where = "Colab" if plan.colab else "local"
    print(f"qrsr {version(DISTRIBUTION)} | TensorFlow {tf.__version__} | "
          f"Keras {keras.__version__} ({keras.backend.backend()}) | "
          f"{where} | GPUs {devices['GPU']} TPUs {devices['TPU']} | profile: {plan.profile} ({plan.reason})")
    for note in plan.notes:
        print(f"  note: {note}")
    return plan.profile


# --- your own photo in notebook 08: an upload control, on Colab and in Jupyter -------------------------


def upload_control(environ: Mapping[str, str] = os.environ, modules: Collection[str] = sys.modules):
    """Ask for a photo the way the runtime can: on Colab, ``google.colab.files.upload()`` (a file chooser
    that waits; Cancel gives nothing); in a Jupyter kernel, an ``ipywidgets.FileUpload`` button, shown
    and returned (its file is read by :func:`uploaded_photo` in a later cell, after you pick one);
    anywhere else (a script, CI) ``None``."""
    if on_colab(environ, modules):
        from google.colab import files

        return files.upload()
    if not in_notebook_kernel(modules):  # a script or a terminal: nobody to click
        return None
    import ipywidgets
    from IPython.display import display

    control = ipywidgets.FileUpload(accept="image/*", multiple=False, description="Upload a photo")
    display(control)
    return control


def uploaded_photo(control, folder: str | os.PathLike) -> Path | None:
    """The photo given to :func:`upload_control`, written into ``folder`` (atomically), or ``None`` when
    nothing was uploaded. Accepts Colab's ``{name: bytes}`` and an ``ipywidgets.FileUpload``."""
    from .io import atomic_path

    if control is None:
        return None
    if isinstance(control, Mapping):
        items = [(name, bytes(data)) for name, data in control.items()]
    else:  # ipywidgets 8: a tuple of {"name", "content", ...}
        items = [(item["name"], bytes(item["content"])) for item in control.value]
    if not items:
        return None
    name, data = items[-1]
    path = Path(folder) / Path(name).name
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path
