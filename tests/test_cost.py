"""MACs counted from layer shapes, against hand counts."""

import keras

from qrsr_helpers.models import conv_macs, layer_macs


def test_macs_are_positions_times_kernel_size():
    image = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", name="conv")(image)
    out = keras.layers.Dense(5, name="dense")(keras.layers.GlobalAveragePooling2D()(x))
    model = keras.Model(image, out)
    assert layer_macs(model, (10, 12)) == {"conv": 5 * 6 * 3 * 3 * 3 * 8, "dense": 8 * 5}
    assert conv_macs(model, (10, 12)) == 5 * 6 * 3 * 3 * 3 * 8 + 8 * 5
