"""What every notebook's first (setup) cell does: install on a fresh runtime, then report versions,
devices and the profile.

The setup cell itself can only use the standard library (``qrsr_helpers`` is not importable before the
install), so its text is generated here (:func:`setup_cell`) and the decisions it and
:func:`report_environment` make live in one pure function, :func:`plan_setup`, which the tests call
with an injected environment (Colab or not, GPU/TPU or not) instead of mocking TensorFlow away.

The install URL has one source of truth: ``[project.urls] Repository`` in ``pyproject.toml`` (read from
the checkout when there is one, else from the installed package's metadata, which pip built from that
same file). ``QRSR_REPO_URL`` overrides it at run time, so a fork's notebooks install the fork.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .config import accelerators, profile_choice

DISTRIBUTION = "qrsr"  # the pip name; the import name is qrsr_helpers
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

_SETUP_CELL = '''\
# Setup: on a fresh Colab runtime this installs qrsr; everywhere it prints versions, devices and the profile.
import importlib.util, os, subprocess, sys
if importlib.util.find_spec("qrsr_helpers") is None:  # fresh Colab runtime: install the package
    REPO = os.environ.get("QRSR_REPO_URL", "{url}")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"qrsr @ git+{{REPO}}"], check=True)
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
    """The exact source of every notebook's first cell (tag ``setup``), installing from ``url``
    (default: :func:`repository_url`)."""
    return _SETUP_CELL.format(url=url or repository_url())


def install_command(environ: Mapping[str, str] = os.environ, url: str | None = None) -> list[str]:
    """What the setup cell runs when ``qrsr_helpers`` is missing: pip, from ``QRSR_REPO_URL`` or ``url``."""
    repo = environ.get("QRSR_REPO_URL", url or repository_url())
    return [sys.executable, "-m", "pip", "install", "-q", f"{DISTRIBUTION} @ git+{repo}"]


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
               url: str | None = None) -> SetupPlan:
    """Decide, without side effects, what a notebook's setup does here: install or not, which profile
    and which advice (a Colab runtime without a GPU, the VGG download, a TPU)."""
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
    return SetupPlan(install=None if importable else install_command(environ, url), colab=colab,
                     accelerator=accelerator, profile=profile, reason=reason, notes=notes)


def report_environment(profile: str | None = None) -> str:
    """Print (and return) versions, devices, the profile and why, plus advice for this runtime."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
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
