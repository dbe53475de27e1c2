"""From uint8 pixels to uint8 pixels through a generator: the one conversion every caller shares."""

from __future__ import annotations

import keras
import numpy as np


def resolve(generator: keras.Model, lr: np.ndarray, batch_size: int = 64, eager: bool = False) -> np.ndarray:
    """Super-resolve a batch of uint8 LR images (NHWC) -> uint8 SR images: scale to [0, 1], run the
    generator, clip, round. The krasserm ``resolve()`` pattern: callers never see float ranges.

    ``eager=True`` calls the model once on the whole batch instead of ``predict``: ``predict`` traces
    a graph for every new input shape (seconds on a CPU), a waste for the odd-sized crops and tiles
    of ``enhance()``; for many same-shaped batches ``predict`` is the faster one."""
    lr = np.asarray(lr)
    if lr.dtype != np.uint8 or lr.ndim != 4:
        raise ValueError(f"resolve() wants a uint8 NHWC batch, got {lr.dtype} with shape {lr.shape}")
    if eager:
        sr = generator(lr.astype(np.float32) / 255.0, training=False)
    else:
        sr = generator.predict(lr.astype(np.float32) / 255.0, batch_size=batch_size, verbose=0)
    return np.round(np.clip(np.asarray(sr, np.float32), 0.0, 1.0) * 255.0).astype(np.uint8)
