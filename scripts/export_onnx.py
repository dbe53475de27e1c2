"""Export generators to ONNX (Keras' own exporter) beside their weights: ``NAME.onnx`` for
``NAME.weights.h5``, stamped with the SHA-256 of that weights file (ONNX metadata
``qrsr.weights_sha256``). The fast inference path (``models.exported``: OpenVINO, no TensorFlow) runs an
export only when its stamp matches the weights beside it; ``tests/test_exported.py`` checks each shipped
export against its Keras weights.

    python scripts/export_onnx.py                       # every bundled generator
    python scripts/export_onnx.py runs/cpu/generator_pretrain.weights.h5
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def export(weights: Path) -> Path:
    """Write ``NAME.onnx`` (atomically) from ``weights``, stamped with the weights' digest, and return its
    path; dynamic batch and size."""
    import numpy as np
    import onnx

    from qrsr_helpers.io import atomic_path
    from qrsr_helpers.models.exported import WEIGHTS_DIGEST_KEY, weights_digest
    from qrsr_helpers.models.registry import export_path, load_pretrained

    generator = load_pretrained(weights, backend="keras")
    generator(np.zeros((1, 16, 16, generator.input_shape[-1]), np.float32))  # Keras exports called models only
    target = export_path(Path(weights))
    with atomic_path(target) as tmp:
        generator.export(str(tmp), format="onnx", verbose=False)
        model = onnx.load(str(tmp))
        del model.metadata_props[:]
        model.metadata_props.add(key=WEIGHTS_DIGEST_KEY, value=weights_digest(weights))
        onnx.save(model, str(tmp))
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
