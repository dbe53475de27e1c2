"""The 8 rotations/reflections of a square grid (D4): super-resolution is equivariant to them, so training augments
with them and inference can average over them (``ensemble=True``)."""

from __future__ import annotations

import numpy as np


def dihedral(images: np.ndarray, k: int) -> np.ndarray:
    """Transform ``k`` (0..7) of a batch (NHWC): ``k % 4`` quarter turns, then a mirror if ``k >= 4``."""
    out = np.rot90(images, k % 4, axes=(1, 2))
    return out[:, :, ::-1] if k >= 4 else out


def undo_dihedral(images: np.ndarray, k: int) -> np.ndarray:
    """The inverse of :func:`dihedral` ``k``: mirror back, then turn back."""
    return np.rot90(images[:, :, ::-1] if k >= 4 else images, -(k % 4), axes=(1, 2))
