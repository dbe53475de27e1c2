"""Stage 2 of training: the SRGAN game between the generator and the discriminator.

The part between the ``lesson`` markers is shown verbatim in notebook 06 (a test compares the two
texts, so the lesson can never drift from what runs): the adversarial losses on the discriminator's
logits and one update of both networks. :class:`SRGAN` wraps that same step for ``keras.Model.fit``.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from .losses import pixel_loss, vgg_content_loss

# --- lesson: notebook 06 shows this text verbatim ----------------------------------------------------
bce = keras.losses.BinaryCrossentropy(from_logits=True)


def adversarial_losses(real_logits, fake_logits):
    """D learns to call HR real (1) and generated fake (0); G learns to make D call its images real."""
    real_logits, fake_logits = ops.cast(real_logits, "float32"), ops.cast(fake_logits, "float32")
    d_loss = bce(ops.ones_like(real_logits), real_logits) + bce(ops.zeros_like(fake_logits), fake_logits)
    g_adv_loss = bce(ops.ones_like(fake_logits), fake_logits)
    return d_loss, g_adv_loss


def srgan_step(lr, hr, generator, discriminator, content_loss, g_optimizer, d_optimizer,
               adv_weight=1e-3, scale_loss=lambda optimizer, loss: loss):
    """One SRGAN update: both networks see the same batch; each steps down its own loss."""
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        sr = generator(lr, training=True)
        real_logits = discriminator(hr, training=True)
        fake_logits = discriminator(sr, training=True)
        d_loss, adv_loss = adversarial_losses(real_logits, fake_logits)
        content = content_loss(hr, sr)
        g_loss = content + adv_weight * adv_loss  # the paper's perceptual loss
        g_scaled, d_scaled = scale_loss(g_optimizer, g_loss), scale_loss(d_optimizer, d_loss)
    g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
    g_optimizer.apply_gradients(zip(g_tape.gradient(g_scaled, g_vars), g_vars))
    d_optimizer.apply_gradients(zip(d_tape.gradient(d_scaled, d_vars), d_vars))
    return dict(g_loss=g_loss, d_loss=d_loss, content_loss=content, adv_loss=adv_loss,
                d_real_accuracy=ops.mean(ops.cast(real_logits > 0, "float32")),
                d_fake_accuracy=ops.mean(ops.cast(fake_logits < 0, "float32")))
# --- end of lesson -----------------------------------------------------------------------------------


class SRGAN(keras.Model):
    """Stage 2 as a ``keras.Model``: ``train_step`` is :func:`srgan_step` (the lesson's text) plus what a
    lesson need not show, so ``fit`` brings callbacks, checkpoints, resume and ``tf.distribute``.

    Content is ``content_weight`` x the VGG feature MSE (the tutorial), the pixel loss, or both.
    Losses are divided by the number of replicas, so gradients summed across devices by a
    ``tf.distribute`` strategy are the global-batch mean; under ``mixed_float16`` both optimizers are
    wrapped in a ``LossScaleOptimizer`` (as ``compile`` would wrap a single one), whose ``scale_loss``
    keeps small float16 gradients from underflowing to zero; the generator's EMA is its optimizer's
    ``use_ema``.
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, vgg: keras.Model | None = None,
                 content_loss: str = "vgg", pixel_loss_kind: str = "l1", adv_weight: float = 1e-3,
                 content_weight: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if content_loss in ("vgg", "both") and vgg is None:
            raise ValueError(f"content_loss={content_loss!r} needs a VGG feature extractor (build_vgg)")
        self.generator, self.discriminator, self.vgg = generator, discriminator, vgg
        self.content_loss, self.adv_weight, self.content_weight = content_loss, adv_weight, content_weight
        self.pixel_loss = pixel_loss(pixel_loss_kind)
        self.built = True  # its parts are built functional models: nothing left to infer from data

    def compile(self, g_optimizer: keras.optimizers.Optimizer, d_optimizer: keras.optimizers.Optimizer, **kwargs):
        # No model-level optimizer: each network has its own. Building them now gives BackupAndRestore
        # their variables to restore into, so a resumed run continues with its Adam moments and EMA.
        super().compile(optimizer=None, **kwargs)
        if self.dtype_policy.name == "mixed_float16":  # what compile() does for a model's one optimizer
            g_optimizer, d_optimizer = (o if isinstance(o, keras.optimizers.LossScaleOptimizer)
                                        else keras.optimizers.LossScaleOptimizer(o) for o in (g_optimizer, d_optimizer))
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        g_optimizer.build(self.generator.trainable_variables)
        d_optimizer.build(self.discriminator.trainable_variables)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in
                         ("g_loss", "d_loss", "content_loss", "adv_loss", "d_real_accuracy", "d_fake_accuracy")}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, lr, training=False):
        return self.generator(lr, training=training)

    def content(self, hr, sr):
        """``content_weight`` x the content loss: VGG features, pixels or both (``content_loss``)."""
        sr32, hr32 = ops.cast(sr, "float32"), ops.cast(hr, "float32")
        if self.content_loss == "pixel":
            return self.content_weight * self.pixel_loss(hr32, sr32)
        features = vgg_content_loss(self.vgg, hr, sr)
        if self.content_loss == "both":
            features = features + self.pixel_loss(hr32, sr32)
        return self.content_weight * features

    def train_step(self, data):
        import tensorflow as tf

        lr, hr = data
        replicas = tf.distribute.get_strategy().num_replicas_in_sync

        def scale_loss(optimizer, loss):  # global-batch mean over replicas; float16 loss scaling
            return optimizer.scale_loss(loss / replicas)

        values = srgan_step(lr, hr, self.generator, self.discriminator, self.content, self.g_optimizer,
                            self.d_optimizer, self.adv_weight, scale_loss)
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def test_step(self, data):
        lr, hr = data
        sr = self.generator(lr, training=False)
        self.trackers["content_loss"].update_state(self.content(hr, sr))
        return {"content_loss": self.trackers["content_loss"].result()}
