"""The SRGAN discriminator (tutorial and paper). It outputs a logit: a sigmoid before the loss survives only on
TensorFlow without a cast in between (float16 or JAX would clip it to no gradient)."""

from __future__ import annotations

import keras
from keras import layers

# (filters multiplier, stride) of the seven conv-BN-LeakyReLU blocks after the first conv.
_BLOCKS = ((1, 2), (2, 1), (2, 2), (4, 1), (4, 2), (8, 1), (8, 2))


def build_discriminator(input_shape: tuple[int, int, int] = (128, 128, 3), filters: int = 64,
                        dense_units: int = 1024, name: str = "discriminator") -> keras.Model:
    """conv(f) + LeakyReLU; 7 x [conv3x3 + BN + LeakyReLU]; Flatten; Dense(1024); LeakyReLU(0.2); Dense(1) logit."""
    image = keras.Input(input_shape, name="image")
    x = layers.Rescaling(2.0, offset=-1.0, name="to_pm1")(image)  # [0,1] -> [-1,1], the paper's HR range
    x = layers.Conv2D(filters, 3, padding="same", name="conv0")(x)
    x = layers.LeakyReLU(0.2, name="lrelu0")(x)
    for i, (mult, stride) in enumerate(_BLOCKS, start=1):
        x = layers.Conv2D(filters * mult, 3, strides=stride, padding="same", name=f"conv{i}")(x)
        x = layers.BatchNormalization(momentum=0.5, name=f"bn{i}")(x)
        x = layers.LeakyReLU(0.2, name=f"lrelu{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, name="dense")(x)
    x = layers.LeakyReLU(0.2, name="lrelu_dense")(x)
    logit = layers.Dense(1, dtype="float32", name="logit")(x)
    return keras.Model(image, logit, name=name)
