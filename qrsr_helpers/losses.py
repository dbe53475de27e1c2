"""Content losses: pixels (L1/MSE) and VGG features. The adversarial losses live with the SRGAN step
(``srgan.adversarial_losses``), where notebook 06 shows them.

The tutorial's total generator loss is ``1e-3 * BCE(D(G(lr)), 1) + MSE(VGG(G(lr)), VGG(hr))``;
those weights are the ``Config`` defaults (``adv_weight``, ``content_weight``).
"""

from __future__ import annotations

import keras
from keras import ops


def pixel_loss(kind: str = "l1"):
    """Mean absolute (``l1``, sharper edges: the SRResNet pre-training default) or squared error."""
    if kind == "l1":
        return keras.losses.MeanAbsoluteError(name="l1")
    if kind == "mse":
        return keras.losses.MeanSquaredError(name="mse")
    raise ValueError(f"pixel loss kind={kind!r} is not one of ['l1', 'mse']")


def vgg_content_loss(vgg: keras.Model, hr, sr):
    """MSE between VGG feature maps of HR and SR (the perceptual loss). Features in float32."""
    return ops.mean(ops.square(ops.cast(vgg(hr), "float32") - ops.cast(vgg(sr), "float32")))
