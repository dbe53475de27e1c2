"""What this process runs in: a Jupyter kernel or not, which accelerators TensorFlow sees."""

from __future__ import annotations

import sys
from collections.abc import Collection, Mapping


def in_notebook_kernel(modules: Collection[str] = sys.modules) -> bool:
    """A Jupyter or Colab kernel (IPython's ZMQ shell), where figures embed and widgets can be clicked."""
    ipython = modules.get("IPython") if isinstance(modules, Mapping) else None
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "ZMQ" in type(shell).__name__


def accelerators() -> dict[str, int]:
    """Number of GPUs and TPUs TensorFlow can see."""
    import tensorflow as tf

    return {"GPU": len(tf.config.list_physical_devices("GPU")), "TPU": len(tf.config.list_physical_devices("TPU"))}


def accelerator(devices: Mapping[str, int]) -> str | None:
    """"TPU", "GPU" (the first present) or None."""
    return next((kind for kind in ("TPU", "GPU") if devices.get(kind, 0)), None)
