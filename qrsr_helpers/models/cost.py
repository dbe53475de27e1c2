"""Convolution and dense multiply-accumulates (MACs), counted from layer shapes: nearly all these models' work
(``benchmarks/models.py`` cross-checks the count with TensorFlow's profiler)."""

from __future__ import annotations

import keras
import numpy as np


def layer_macs(model: keras.Model, input_hw: tuple[int, int]) -> dict[str, int]:
    """MACs of every Conv2D and Dense layer of ``model`` for one ``input_hw`` image, by layer name; the output sizes
    from a zero image run through a model exposing those layers' outputs."""
    counted = [layer for layer in model.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))]
    if not counted:
        return {}
    probe = keras.Model(model.input, [layer.output for layer in counted])
    zeros = np.zeros((1, *input_hw, model.input_shape[-1]), np.float32)
    outputs = probe(zeros)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    macs = {}
    for layer, out in zip(counted, outputs):
        kernel = layer.kernel.shape  # (kh, kw, c_in, c_out) or (d_in, d_out)
        positions = int(np.prod(out.shape[1:-1])) if len(out.shape) > 2 else 1
        macs[layer.name] = positions * int(np.prod(kernel))
    return macs


def conv_macs(model: keras.Model, input_hw: tuple[int, int]) -> int:
    """Total Conv2D + Dense MACs for one image of ``input_hw`` pixels (x2 for FLOPs)."""
    return sum(layer_macs(model, input_hw).values())
