"""What every notebook's setup cell calls once qrsr is importable (the cell itself installs it, with the standard
library only; tests/test_colab.py runs its text), and notebook 08's photo upload on Colab and in Jupyter."""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Mapping
from pathlib import Path

from .config import get_config, profile_choice
from .environment import accelerator, accelerators, in_notebook_kernel


def on_colab(environ: Mapping[str, str] = os.environ, modules: Collection[str] = sys.modules) -> bool:
    """Colab sets ``COLAB_RELEASE_TAG`` or ``COLAB_GPU`` (empty without a GPU) or preloads ``google.colab``; Kaggle's
    Colab-based image sets ``COLAB_RELEASE_TAG`` too, and ``KAGGLE_KERNEL_RUN_TYPE``."""
    colab = "COLAB_RELEASE_TAG" in environ or "COLAB_GPU" in environ or "google.colab" in modules
    return colab and "KAGGLE_KERNEL_RUN_TYPE" not in environ


def setup_notes(profile: str, devices: Mapping[str, int], colab: bool,
                environ: Mapping[str, str] = os.environ) -> list[str]:
    """Advice printed under the environment line: a Colab without a GPU, gpu on a CPU, a TPU, the VGG download."""
    found, notes = accelerator(devices), []
    if colab and found is None:
        notes.append("Colab runtime without a GPU: Runtime > Change runtime type > T4 GPU, then run the notebook "
                     "again (the cpu profile works here too, at laptop speed).")
    if profile == "gpu" and found is None:
        notes.append("profile 'gpu' without a GPU or TPU: its full-scale training will take hours on this CPU.")
    if found == "TPU":
        notes.append("TPU: training uses TPUStrategy and mixed_bfloat16; this path is untested, a GPU runtime is "
                     "the tested one.")
    config = get_config(profile)
    if config.content_loss != "pixel" and config.vgg_weights == "imagenet" and not environ.get("QRSR_VGG_WEIGHTS"):
        notes.append(f"profile {profile!r} uses ImageNet VGG19 features: the first GAN run downloads ~80 MB into "
                     "~/.keras/models (once per runtime; offline, set QRSR_VGG_WEIGHTS=/path/to/"
                     "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5).")
    return notes


def report_environment(profile: str | None = None) -> str:
    """Print (and return) versions, devices, the profile and why, plus advice for this runtime."""
    from importlib.metadata import version

    import keras
    import tensorflow as tf

    devices, colab = accelerators(), on_colab()
    profile, reason = profile_choice(profile, devices=devices)
    print(f"qrsr {version('qrsr')} | TensorFlow {tf.__version__} | Keras {keras.__version__} "
          f"({keras.backend.backend()}) | {'Colab' if colab else 'local'} | GPUs {devices['GPU']} TPUs "
          f"{devices['TPU']} | profile: {profile} ({reason})")
    for note in setup_notes(profile, devices, colab):
        print(f"  note: {note}")
    return profile


def upload_control(environ: Mapping[str, str] = os.environ, modules: Collection[str] = sys.modules):
    """Ask for a photo the way the runtime can: Colab's file chooser (it waits), a Jupyter ``FileUpload`` button
    (read by :func:`uploaded_photo` in a later cell), else (a script, CI) ``None``."""
    if on_colab(environ, modules):
        from google.colab import files

        return files.upload()
    if not in_notebook_kernel(modules):
        return None
    import ipywidgets
    from IPython.display import display

    control = ipywidgets.FileUpload(accept="image/*", multiple=False, description="Upload a photo")
    display(control)
    return control


def uploaded_photo(control, folder: str | os.PathLike) -> Path | None:
    """The photo given to :func:`upload_control` written into ``folder`` under its bare name, else ``None``."""
    from .io import atomic_path

    # Colab: {name: bytes}; ipywidgets 8: a tuple of {"name", "content", ...}; None: no control
    items = list(control.items()) if isinstance(control, Mapping) else \
        [(item["name"], item["content"]) for item in getattr(control, "value", ())]
    if not items:
        return None
    path = Path(folder) / Path(items[-1][0]).name
    with atomic_path(path) as tmp:
        tmp.write_bytes(bytes(items[-1][1]))
    return path
