"""qrsr_helpers: the code behind the qrsr notebooks — data, models, losses, training, evaluation.

The public API a notebook or script needs is importable from here; names load on first use, so
importing the package is cheap (no TensorFlow) and data workers and the CLI start fast:

- configuration: ``Config``, ``get_config``
- data: ``generate_pairs``, ``load_or_generate``
- models: ``load_pretrained`` (a bundled or trained generator as a Keras model; ``backend="auto"`` for the
  bundled ones' ONNX export on OpenVINO, no TensorFlow), ``super_resolve`` (uint8 batch -> uint8 batch),
  ``Enhancer`` (images of any size, tiled, and photo files; the fast path by default)
- measuring: ``decode``, ``decode_matches``, ``evaluate_upscalers``, ``interpolation_upscaler``, ``upscaler``,
  ``hr_decode_rate``

The layers below it, imports pointing one way (a test enforces it): core (``config``, ``errors``,
``io``, ``data``, ``models``, ``losses``, ``srgan``) <- tools (``decode``, ``locate``, ``ladder``,
``inference``, ``evaluate``, ``training``, ``plots``) <- front ends (``cli``, ``colab``).
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

from . import quiet
from .config import Config, get_config

quiet.install()  # before anything imports TensorFlow: its C++ start-up chatter is filtered

try:
    __version__ = version("qrsr")  # one source: pyproject.toml
except PackageNotFoundError:  # a checkout on PYTHONPATH, not installed (e.g. a lent GPU machine): say so
    __version__ = "0+uninstalled"
_HOMES = {"load_pretrained": "models.registry:load_pretrained", "super_resolve": "inference", "Enhancer": "inference",
          "generate_pairs": "data.synth", "load_or_generate": "data.synth", "decode": "decode",
          "decode_matches": "decode", "evaluate_upscalers": "evaluate", "interpolation_upscaler": "evaluate",
          "upscaler": "evaluate", "hr_decode_rate": "evaluate"}
__all__ = ["Config", "get_config", *_HOMES, "__version__"]


def __getattr__(name: str):
    if name in _HOMES:
        module, _, attribute = _HOMES[name].partition(":")
        return getattr(import_module(f".{module}", __name__), attribute or name)
    raise AttributeError(f"module 'qrsr_helpers' has no attribute {name!r}")
