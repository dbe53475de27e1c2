"""The bundled generators without TensorFlow: their ONNX export on OpenVINO (imports in ~0.3 s, not ~3 s; several
times faster in bf16), refused at load unless stamped with the SHA-256 of its weights (``scripts/export_onnx.py``)."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..config import BACKEND_ENV, BACKENDS, PRECISION_ENV, PRECISIONS
from ..errors import BadFile, InvalidArgument, error_line


@lru_cache(maxsize=1)
def bf16_supported() -> bool:
    """Whether the CPU computes bfloat16 (AMX, AVX512-BF16); elsewhere OpenVINO emulates it, slower than fp32."""
    return "BF16" in _core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def setting(kind: str, value: str | None) -> str:
    """``backend`` or ``precision``: ``value``, else its environment variable (read here only), else ``auto``."""
    variable, choices = {"backend": (BACKEND_ENV, BACKENDS), "precision": (PRECISION_ENV, PRECISIONS)}[kind]
    asked = str(value or os.environ.get(variable) or "auto")
    if asked.lower() not in choices:
        where = f"{kind} {asked!r}" if value else f"${variable}={asked!r}"
        raise InvalidArgument(f"{where}: not one of {', '.join(choices)}" + ("" if value else f" (or pass --{kind})"))
    return asked.lower()


def choose_precision(precision: str | None = None) -> str:
    return "bf16" if setting("precision", precision) in ("auto", "bf16") and bf16_supported() else "fp32"


@lru_cache(maxsize=1)
def _core():
    import openvino

    return openvino.Core()


WEIGHTS_DIGEST_KEY = "qrsr.weights_sha256"  # ONNX metadata: the digest of the weights file it was exported from


def weights_digest(weights: str | os.PathLike) -> str:
    return hashlib.sha256(Path(weights).read_bytes()).hexdigest()


class ExportedGenerator:
    """Quacks like the Keras generator as far as ``inference`` needs (``__call__``, ``predict``, ``input_shape``);
    the factor and finite outputs are checked on every batch: a foreign or broken export never passes silently."""

    def __init__(self, path: str | os.PathLike, precision: str | None = None,
                 weights: str | os.PathLike | None = None, scale: int = 4):
        self.path, self.precision, self.scale = Path(path), choose_precision(precision), scale
        try:
            model = _core().read_model(str(self.path))
        except RuntimeError as error:
            raise BadFile(f"{self.path}: not a readable ONNX model ({error_line(error)})",
                          "unreadable or corrupt") from None
        if weights is not None:
            key = ["framework", WEIGHTS_DIGEST_KEY]
            recorded = model.get_rt_info(key).astype(str) if model.has_rt_info(key) else None
            if recorded != weights_digest(weights):
                why = ("records no weights digest, so nothing ties it to" if recorded is None else
                       "was exported from other weights than")
                raise BadFile(f"{self.path}: {why} {Path(weights).name} (a stale or foreign export?); re-export "
                              "it with python scripts/export_onnx.py", "stale export")
        self.name = self.path.name.split(".")[0]
        self.input_shape = (None, None, None, int(model.inputs[0].get_partial_shape()[3].get_length()))
        config = {"INFERENCE_PRECISION_HINT": "bf16" if self.precision == "bf16" else "f32",
                  "PERFORMANCE_HINT": "LATENCY"}  # one request at a time, every core on it
        self._request = _core().compile_model(model, "CPU", config).create_infer_request()
        self(np.full((1, 8, 8, self.input_shape[-1]), 0.5, np.float32))  # the probe: x scale, finite

    def __call__(self, x, training: bool = False) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        out = self._request.infer({0: x})[0].copy()
        if out.shape[:3] != (x.shape[0], x.shape[1] * self.scale, x.shape[2] * self.scale):
            raise BadFile(f"{self.path}: turns {x.shape[1]}x{x.shape[2]} px into {out.shape[1]}x{out.shape[2]}, "
                          f"not x{self.scale}", "wrong model")
        if not np.isfinite(out).all():
            raise BadFile(f"{self.path}: computes NaN or infinite values", "diverged")
        return out

    def predict(self, x, batch_size: int = 64, verbose=0) -> np.ndarray:
        return np.concatenate([self(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
