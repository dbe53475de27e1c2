"""Losses: pixel content (L1/MSE), VGG feature content, and the adversarial BCE on logits.

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


def adversarial_losses(real_logits, fake_logits):
    """Discriminator loss (real -> 1, fake -> 0) and generator loss (fake -> 1), from logits."""
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    real_logits, fake_logits = ops.cast(real_logits, "float32"), ops.cast(fake_logits, "float32")
    d_loss = bce(ops.ones_like(real_logits), real_logits) + bce(ops.zeros_like(fake_logits), fake_logits)
    g_loss = bce(ops.ones_like(fake_logits), fake_logits)
    return d_loss, g_loss
