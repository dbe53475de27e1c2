"""Content losses: pixels and VGG features; the adversarial ones are in srgan.py."""

from __future__ import annotations

import keras
from keras import ops

from .config import PIXEL_LOSSES


def pixel_loss(kind: str = "l1"):
    """Mean absolute (``l1``, sharper edges) or squared error, or L1 plus the decoder's view (``l1+binary``)."""
    losses = {"l1": lambda: keras.losses.MeanAbsoluteError(name="l1"), "l1+binary": BinarisedL1,
              "mse": lambda: keras.losses.MeanSquaredError(name="mse")}
    if kind not in losses:
        raise ValueError(f"pixel loss kind={kind!r} is not one of {list(PIXEL_LOSSES)}")
    return losses[kind]()


@keras.saving.register_keras_serializable(package="qrsr")
class BinarisedL1(keras.losses.Loss):
    """L1 plus a hinge on the side of the local mean (a decoder's threshold) a pixel falls: where HR is ``confident``
    beyond its local mean, SR is charged for not being ``margin`` beyond it (L1 charges both sides alike)."""

    def __init__(self, weight: float = 1.0, window: int = 17, confident: float = 0.12, margin: float = 0.08,
                 name: str = "l1_binary", **kwargs):
        super().__init__(name=name, **kwargs)
        self.weight, self.window, self.confident, self.margin = weight, window, confident, margin

    def get_config(self) -> dict:
        return {**super().get_config(), "weight": self.weight, "window": self.window, "confident": self.confident,
                "margin": self.margin}

    def call(self, y_true, y_pred):
        hr, sr = ops.cast(y_true, "float32"), ops.cast(y_pred, "float32")
        l1 = ops.mean(ops.abs(hr - sr), axis=-1)
        grey_hr, grey_sr = ops.mean(hr, axis=-1, keepdims=True), ops.mean(sr, axis=-1, keepdims=True)
        local = ops.average_pool(grey_hr, self.window, strides=1, padding="same")
        side = grey_hr - local
        sure = ops.cast(ops.abs(side) > self.confident, "float32")
        hinge = ops.relu(self.margin - ops.sign(side) * (grey_sr - local)) * sure
        return l1 + self.weight * hinge[..., 0]


# --- lesson content-loss: notebook 05 shows this text verbatim ---
def vgg_content_loss(vgg: keras.Model, hr, sr):
    """MSE between VGG feature maps of HR and SR (the perceptual loss). Features in float32."""
    return ops.mean(ops.square(ops.cast(vgg(hr), "float32") - ops.cast(vgg(sr), "float32")))
# --- end of lesson content-loss ---
