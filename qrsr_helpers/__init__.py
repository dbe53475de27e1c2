"""qrsr_helpers: the code behind the qrsr notebooks — data, models, losses, training, evaluation.

Importing the package is cheap (no TensorFlow): heavy modules load when first used, so data
workers and the CLI start fast. The two functions most users need are re-exported lazily:
``load_pretrained()`` and ``enhance(image)``.
"""

from __future__ import annotations

from .config import Config, get_config

__version__ = "0.1.0"
__all__ = ["Config", "get_config", "load_pretrained", "enhance", "__version__"]


def __getattr__(name: str):
    if name in ("load_pretrained", "enhance"):
        from . import enhancer as _enhance_module

        return getattr(_enhance_module, name)
    raise AttributeError(f"module 'qrsr_helpers' has no attribute {name!r}")
