"""The bundled generators without TensorFlow: their ONNX export run by OpenVINO on the CPU.

A user who enhances one photo waits ~3 s for ``import tensorflow`` and ~0.1 s for the model; OpenVINO
imports in ~0.3 s and, where the CPU computes in bfloat16 (AMX, AVX512-BF16), runs the 16 x 64 generator
several times faster than TensorFlow in float32 (``benchmarks/inference.py --runtimes`` has the table
that chose it over ONNX Runtime and LiteRT). Training and the notebooks stay Keras.

``NAME.onnx`` beside ``NAME.weights.h5`` (``registry.export_path``) is Keras' own export of those weights
(``scripts/export_onnx.py``), stamped with the SHA-256 of those weights: at load an export whose stamp
does not match its weights file is refused (``auto`` then runs the Keras model and says why), and
``tests/test_exported.py`` checks every shipped export computes what its Keras weights compute.
:class:`ExportedGenerator` quacks like the Keras generator as far as ``inference`` needs (``__call__``,
``predict``, ``input_shape``): pixels in [0, 1], NHWC, any size.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..config import PRECISION_ENV, PRECISIONS
from ..errors import BadFile, InvalidArgument, error_line


@lru_cache(maxsize=1)
def bf16_supported() -> bool:
    """Whether OpenVINO's CPU plugin computes in bfloat16 here (AMX or AVX512-BF16); elsewhere it would
    emulate it, slower than float32."""
    return "BF16" in _core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def asked_precision(precision: str | None = None) -> str:
    """The precision asked for (argument, else ``$QRSR_PRECISION``, else ``auto``), checked: no OpenVINO needed."""
    asked = str(precision or os.environ.get(PRECISION_ENV) or "auto").lower()
    if asked not in PRECISIONS:
        raise InvalidArgument(f"precision {asked!r} (${PRECISION_ENV} or --precision) is not one of {list(PRECISIONS)}")
    return asked


def choose_precision(precision: str | None = None) -> str:
    """``bf16`` or ``fp32``: as asked (:func:`asked_precision`), ``auto`` meaning bf16 where the CPU supports
    it. Asking for bf16 where it is not supported falls back to fp32 (said by ``precision``)."""
    return "bf16" if asked_precision(precision) in ("auto", "bf16") and bf16_supported() else "fp32"


@lru_cache(maxsize=1)
def _core():
    import openvino

    return openvino.Core()


WEIGHTS_DIGEST_KEY = "qrsr.weights_sha256"  # ONNX metadata: the digest of the weights file it was exported from


def weights_digest(weights: str | os.PathLike) -> str:
    """SHA-256 of a weights file's bytes (~10 ms for the bundled 6.5 MB): what ties an export to its weights."""
    return hashlib.sha256(Path(weights).read_bytes()).hexdigest()


class ExportedGenerator:
    """A generator's ONNX export compiled by OpenVINO for the CPU, in ``precision`` (bf16 | fp32).

    With ``weights`` (the ``.weights.h5`` it stands for) the export must carry that file's digest
    (``scripts/export_onnx.py`` records it), so a stale or foreign export is refused, never run silently;
    ``scale``: the factor it must compute. Both, and finite outputs, are checked once here on a small
    probe, and every batch's output is checked again (:class:`BadFile` otherwise)."""

    runtime = "openvino"

    def __init__(self, path: str | os.PathLike, precision: str | None = None,
                 weights: str | os.PathLike | None = None, scale: int = 4):
        self.path = Path(path)
        self.precision = choose_precision(precision)
        self.scale = scale
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
        self._compiled = _core().compile_model(model, "CPU", config)
        self._request = self._compiled.create_infer_request()
        self(np.full((1, 8, 8, self.input_shape[-1]), 0.5, np.float32))  # the probe: x scale, finite

    def __call__(self, x, training: bool = False) -> np.ndarray:
        """One batch (NHWC float32 in [0, 1]) -> its x4 batch, as Keras' ``model(x)`` would return it."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        out = self._request.infer({0: x})[0].copy()
        expected = (x.shape[0], x.shape[1] * self.scale, x.shape[2] * self.scale)
        if out.shape[:3] != expected:
            raise BadFile(f"{self.path}: turns {x.shape[1]}x{x.shape[2]} px into {out.shape[1]}x{out.shape[2]}, "
                          f"not x{self.scale}", "wrong model")
        if not np.isfinite(out).all():
            raise BadFile(f"{self.path}: computes NaN or infinite values", "diverged")
        return out

    def predict(self, x, batch_size: int = 64, verbose=0) -> np.ndarray:
        """Batches of ``batch_size``, as ``keras.Model.predict``."""
        x = np.asarray(x, np.float32)
        return np.concatenate([self(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])

    def __repr__(self) -> str:
        return f"ExportedGenerator({self.path.name}, {self.runtime}, {self.precision})"
