"""The dihedral transforms: eight distinct ones, each undone by its inverse."""

import numpy as np

from qrsr_helpers.data.dihedral import dihedral, undo_dihedral


def test_eight_distinct_transforms_each_undone():
    images = np.arange(2 * 3 * 3 * 1).reshape(2, 3, 3, 1)
    seen = {dihedral(images, k).tobytes() for k in range(8)}
    assert len(seen) == 8
    for k in range(8):
        np.testing.assert_array_equal(undo_dihedral(dihedral(images, k), k), images)
    np.testing.assert_array_equal(dihedral(images, 4), images[:, :, ::-1])  # k = 4: the mirror alone
