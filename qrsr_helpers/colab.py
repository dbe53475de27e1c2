"""What every notebook's first (setup) cell calls: report versions, devices and the profile.

The setup cell itself installs the package on a fresh Colab runtime (where ``qrsr_helpers`` is not
importable yet); everything after the install lives here, so it is tested like any other code.
"""

from __future__ import annotations

import os
from typing import Mapping


def accelerators() -> dict[str, int]:
    """Number of GPUs and TPUs TensorFlow can see."""
    import tensorflow as tf

    return {"GPU": len(tf.config.list_physical_devices("GPU")), "TPU": len(tf.config.list_physical_devices("TPU"))}


def choose_profile(explicit: str | None = None, environ: Mapping[str, str] = os.environ,
                   devices: Mapping[str, int] | None = None) -> str:
    """``explicit`` (the notebook's parameters cell) > ``QRSR_PROFILE`` > ``gpu`` on a GPU/TPU > ``cpu``."""
    from .config import PROFILES, ConfigError

    choice = explicit or environ.get("QRSR_PROFILE", "").strip()
    if not choice:
        devices = accelerators() if devices is None else devices
        choice = "gpu" if devices.get("GPU", 0) or devices.get("TPU", 0) else "cpu"
    if choice not in PROFILES:
        raise ConfigError(f"profile={choice!r} is not one of {list(PROFILES)}")
    return choice


def report_environment(profile: str | None = None) -> str:
    """Print (and return) versions, devices and the profile the notebook will use."""
    import keras
    import tensorflow as tf

    from . import __version__

    devices = accelerators()
    chosen = choose_profile(profile, devices=devices)
    line = (f"qrsr {__version__} | TensorFlow {tf.__version__} | Keras {keras.__version__} | "
            f"GPUs {devices['GPU']} TPUs {devices['TPU']} | profile: {chosen}")
    print(line)
    return chosen
