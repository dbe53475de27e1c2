"""Random training batches from in-memory pairs for any Keras backend (TensorFlow uses tf.data)."""

from __future__ import annotations

import keras
import numpy as np

from .dihedral import dihedral
from .pairs import Pairs


class PairBatches(keras.utils.PyDataset):
    """``(lr, hr)`` float32 batches in [0, 1], shuffled each epoch, each batch under a random dihedral transform."""

    def __init__(self, pairs: Pairs, batch_size: int, seed: int = 0, steps_per_epoch: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if len(pairs) < batch_size:
            raise ValueError(f"{len(pairs)} pairs cannot fill one batch of {batch_size}")
        self.pairs, self.batch_size = pairs, batch_size
        self.steps = steps_per_epoch or len(pairs) // batch_size
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def __len__(self) -> int:
        return self.steps

    def on_epoch_end(self) -> None:
        need = self.steps * self.batch_size
        self.order = np.concatenate([self.rng.permutation(len(self.pairs)) for _ in range(-(-need // len(self.pairs)))])
        self.transforms = self.rng.integers(0, 8, self.steps)

    def __getitem__(self, step: int):
        index = np.sort(self.order[step * self.batch_size:(step + 1) * self.batch_size])
        return tuple(np.ascontiguousarray(dihedral(a[index], int(self.transforms[step])).astype(np.float32) / 255.0)
                     for a in (self.pairs.lr, self.pairs.hr))
