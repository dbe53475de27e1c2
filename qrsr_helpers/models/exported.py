"""The bundled generators without TensorFlow: their ONNX export run by OpenVINO on the CPU.

A user who enhances one photo waits ~3 s for ``import tensorflow`` and ~0.1 s for the model; OpenVINO
imports in ~0.3 s and, where the CPU computes in bfloat16 (AMX, AVX512-BF16), runs the 16 x 64 generator
several times faster than TensorFlow in float32 (``benchmarks/inference.py --runtimes`` has the table
that chose it over ONNX Runtime and LiteRT). Training and the notebooks stay Keras.

``NAME.onnx`` beside ``NAME.weights.h5`` (``registry.export_path``) is Keras' own export of those weights
(``scripts/export_onnx.py``); ``tests/test_exported.py`` checks every shipped export against its Keras
weights, so the two can never drift. :class:`ExportedGenerator` quacks like the Keras generator as far
as ``inference`` needs (``__call__``, ``predict``, ``input_shape``): pixels in [0, 1], NHWC, any size.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..config import PRECISION_ENV, PRECISIONS
from ..errors import BadFile, InvalidArgument


@lru_cache(maxsize=1)
def bf16_supported() -> bool:
    """Whether OpenVINO's CPU plugin computes in bfloat16 here (AMX or AVX512-BF16); elsewhere it would
    emulate it, slower than float32."""
    return "BF16" in _core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def choose_precision(precision: str | None = None) -> str:
    """``bf16`` or ``fp32``: as asked (argument, else ``$QRSR_PRECISION``), ``auto`` meaning bf16 where the
    CPU supports it. Asking for bf16 where it is not supported falls back to fp32 (said by ``precision``)."""
    asked = (precision or os.environ.get(PRECISION_ENV) or "auto").lower()
    if asked not in PRECISIONS:
        raise InvalidArgument(f"precision {asked!r} (${PRECISION_ENV} or --precision) is not one of {list(PRECISIONS)}")
    return "bf16" if asked in ("auto", "bf16") and bf16_supported() else "fp32"


@lru_cache(maxsize=1)
def _core():
    import openvino

    return openvino.Core()


class ExportedGenerator:
    """A generator's ONNX export compiled by OpenVINO for the CPU, in ``precision`` (bf16 | fp32)."""

    runtime = "openvino"

    def __init__(self, path: str | os.PathLike, precision: str | None = None):
        self.path = Path(path)
        self.precision = choose_precision(precision)
        try:
            model = _core().read_model(str(self.path))
        except RuntimeError as error:
            first = (str(error).strip().splitlines() or ["unreadable"])[0][:120]
            raise BadFile(f"{self.path}: not a readable ONNX model ({first})", "unreadable or corrupt") from None
        self.name = self.path.name.split(".")[0]
        self.input_shape = (None, None, None, int(model.inputs[0].get_partial_shape()[3].get_length()))
        config = {"INFERENCE_PRECISION_HINT": "bf16" if self.precision == "bf16" else "f32",
                  "PERFORMANCE_HINT": "LATENCY"}  # one request at a time, every core on it
        self._compiled = _core().compile_model(model, "CPU", config)
        self._request = self._compiled.create_infer_request()

    def __call__(self, x, training: bool = False) -> np.ndarray:
        """One batch (NHWC float32 in [0, 1]) -> its x4 batch, as Keras' ``model(x)`` would return it."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        return self._request.infer({0: x})[0].copy()

    def predict(self, x, batch_size: int = 64, verbose=0) -> np.ndarray:
        """Batches of ``batch_size``, as ``keras.Model.predict``."""
        x = np.asarray(x, np.float32)
        return np.concatenate([self(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])

    def __repr__(self) -> str:
        return f"ExportedGenerator({self.path.name}, {self.runtime}, {self.precision})"
