"""Convolution and dense multiply-accumulates (MACs) from layer shapes: nearly all these models' work."""

from __future__ import annotations

import keras
import numpy as np


def layer_macs(model: keras.Model, input_hw: tuple[int, int]) -> dict[str, int]:
    """MACs of every Conv2D and Dense layer of ``model`` for one ``input_hw`` image, by layer name."""
    counted = [layer for layer in model.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))]
    if not counted:  # a model wrapping another (the VGG around its body)
        return {}
    probe = keras.Model(model.input, [layer.output for layer in counted])
    outputs = probe(np.zeros((1, *input_hw, model.input_shape[-1]), np.float32))
    # positions (1 for a Dense) x kernel size
    return {layer.name: int(np.prod(out.shape[1:-1])) * int(np.prod(layer.kernel.shape))
            for layer, out in zip(counted, outputs)}


def conv_macs(model: keras.Model, input_hw: tuple[int, int]) -> int:
    """Total Conv2D + Dense MACs for one image of ``input_hw`` pixels (x2 for FLOPs)."""
    return sum(layer_macs(model, input_hw).values())
