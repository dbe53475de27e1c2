"""Export generators to ONNX (Keras' own exporter) beside their weights: ``NAME.onnx`` for
``NAME.weights.h5``. The fast inference path (``models.exported``: OpenVINO, no TensorFlow) runs these;
``tests/test_exported.py`` checks each shipped export against its Keras weights.

    python scripts/export_onnx.py                       # every bundled generator
    python scripts/export_onnx.py runs/cpu/generator_pretrain.weights.h5
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def export(weights: Path) -> Path:
    """Write ``NAME.onnx`` (atomically) from ``weights`` and return its path; dynamic batch and size."""
    import numpy as np

    from qrsr_helpers.io import atomic_path
    from qrsr_helpers.models.registry import export_path, load_generator

    generator = load_generator(weights, backend="keras")
    generator(np.zeros((1, 16, 16, generator.input_shape[-1]), np.float32))  # Keras exports called models only
    target = export_path(Path(weights))
    with atomic_path(target) as tmp:
        generator.export(str(tmp), format="onnx", verbose=False)
    return target


def main() -> int:
    from qrsr_helpers.models.registry import BUNDLED, weights_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", nargs="*", help="weights files or bundled names (default: every bundled one)")
    args = parser.parse_args()
    for spec in args.weights or list(BUNDLED):
        path = export(weights_path(spec))
        print(f"{spec} -> {path} ({path.stat().st_size / 1e6:.1f} MB)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
