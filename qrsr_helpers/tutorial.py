"""The source tutorial's SRGAN training loop, reproduced faithfully: notebook 06 runs two steps of it
(the text between the ``lesson`` markers is the notebook's cell, kept identical by a test) and
``benchmarks/train_throughput.py`` measures every speed-up against it. Not used for training anything.

What the tutorial did, and what is kept here on purpose, inefficiencies included:
- batch size 1; per step ``generator.predict_on_batch(lr)`` (a separate forward pass),
  ``discriminator.train_on_batch`` on the fake batch then on the real one, toggling
  ``discriminator.trainable`` around them, ``vgg.predict(hr)`` for the content target (a second
  VGG call outside the graph), then ``gan_model.train_on_batch([lr, hr], [real_label, features])`` on a
  combined model compiled with ``["binary_crossentropy", "mse"]``, ``loss_weights=[1e-3, 1]``,
  ``optimizer="adam"`` (the discriminator: ``binary_crossentropy``, ``adam``, accuracy metric);
- its architecture: 16 residual blocks x 64 filters, ``UpSampling2D`` (nearest) upscaling with
  256-channel convs, RGB, VGG19 cut at ``block3_conv4`` (the tutorial's ``layers[10]``), a
  discriminator ending in a sigmoid (here: this package's discriminator + ``Activation("sigmoid")``,
  the same layers as the tutorial's ``create_disc``).

Differences, both in the tutorial's favour for speed: ``vgg.predict`` runs with ``verbose=0``
(Keras 3 would print a progress bar per call), and VGG weights default to random (same cost).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from keras import layers

from .models import build_discriminator, build_generator, build_vgg


@dataclass
class TutorialModels:
    generator: keras.Model
    discriminator: keras.Model  # sigmoid output, compiled with BCE
    vgg: keras.Model
    gan_model: keras.Model  # [lr, hr] -> [validity, vgg features of G(lr)], compiled


def build_tutorial_models(hr_size: int = 128, scale: int = 4, n_res_blocks: int = 16, filters: int = 64,
                          upsampling: str = "nearest", disc_filters: int = 64, vgg_weights: str | None = None,
                          vgg_layer: str = "block3_conv4") -> TutorialModels:
    """The tutorial's four models, built and compiled in the tutorial's order (``create_comb``
    freezes the discriminator before the combined model is compiled)."""
    lr_size, channels = hr_size // scale, 3
    generator = build_generator(n_res_blocks, scale.bit_length() - 1, upsampling, channels, filters)
    logits = build_discriminator((hr_size, hr_size, channels), disc_filters)
    discriminator = keras.Model(logits.input, layers.Activation("sigmoid", name="validity")(logits.output),
                                name="discriminator")
    discriminator.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    vgg = build_vgg(vgg_layer, vgg_weights, channels)
    vgg.trainable = False
    lr_ip = keras.Input((lr_size, lr_size, channels))
    hr_ip = keras.Input((hr_size, hr_size, channels))
    gen_img = generator(lr_ip)
    gen_features = vgg(gen_img)
    discriminator.trainable = False
    validity = discriminator(gen_img)
    gan_model = keras.Model(inputs=[lr_ip, hr_ip], outputs=[validity, gen_features])
    gan_model.compile(loss=["binary_crossentropy", "mse"], loss_weights=[1e-3, 1], optimizer="adam")
    return TutorialModels(generator, discriminator, vgg, gan_model)


# --- lesson tutorial-step: notebook 06 shows this text verbatim ---
def tutorial_step(models: TutorialModels, lr_imgs: np.ndarray, hr_imgs: np.ndarray) -> tuple[float, float]:
    """One iteration of the tutorial's inner loop (pixels in [0, 1]): D on fakes, D on reals, then G
    through the combined model, whose discriminator is frozen. Returns (D loss, G loss)."""
    n = len(lr_imgs)
    fake_label, real_label = np.zeros((n, 1)), np.ones((n, 1))
    fake_imgs = models.generator.predict_on_batch(lr_imgs)
    models.discriminator.trainable = True
    d_loss_gen = models.discriminator.train_on_batch(fake_imgs, fake_label)
    d_loss_real = models.discriminator.train_on_batch(hr_imgs, real_label)
    models.discriminator.trainable = False
    d_loss = 0.5 * np.add(d_loss_gen, d_loss_real)
    image_features = models.vgg.predict(hr_imgs, verbose=0)
    g_loss, _, _ = models.gan_model.train_on_batch([lr_imgs, hr_imgs], [real_label, image_features])
    return float(np.ravel(d_loss)[0]), float(g_loss)
# --- end of lesson tutorial-step ---

