"""qrsr_helpers: the code behind the qrsr notebooks. The public API is importable from here, each name loaded on first
use, so importing the package is cheap (no TensorFlow). The layers (core <- tools <- front ends) are in README."""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

from . import quiet
from .config import Config, get_config

quiet.install()  # before anything imports TensorFlow

try:
    __version__ = version("qrsr")  # one source: pyproject.toml
except PackageNotFoundError:  # a checkout on PYTHONPATH, not installed (e.g. a lent GPU machine): say so
    __version__ = "0+uninstalled"
_HOMES = {"load_pretrained": "models.registry", "super_resolve": "inference", "Enhancer": "inference",
          "generate_pairs": "data.pairs", "load_or_generate": "data.pairs", "decode": "decode",
          "decode_matches": "decode", "evaluate_upscalers": "evaluate", "interpolation_upscaler": "evaluate",
          "upscaler": "evaluate", "hr_decode_rate": "evaluate"}
__all__ = ["Config", "get_config", *_HOMES, "__version__"]


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module 'qrsr_helpers' has no attribute {name!r}")
