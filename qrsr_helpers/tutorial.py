"""The source tutorial's SRGAN loop, its inefficiencies kept: ``benchmarks/train_throughput.py``'s baseline."""

from __future__ import annotations

from collections import namedtuple

import keras
import numpy as np
from keras import layers

from .models import build_discriminator, build_generator, build_vgg

# discriminator: sigmoid output, compiled with BCE; gan_model: [lr, hr] -> [validity, VGG features of G(lr)], compiled
TutorialModels = namedtuple("TutorialModels", "generator discriminator vgg gan_model")


def build_tutorial_models(hr_size: int = 128, scale: int = 4, n_res_blocks: int = 16, filters: int = 64,
                          upsampling: str = "nearest", disc_filters: int = 64, vgg_weights: str | None = None,
                          vgg_layer: str = "block3_conv4") -> TutorialModels:
    """The tutorial's four models, compiled in its order (D frozen before the combined model)."""
    lr_size, channels = hr_size // scale, 3
    generator = build_generator(n_res_blocks, scale.bit_length() - 1, upsampling, channels, filters)
    logits = build_discriminator((hr_size, hr_size, channels), disc_filters)
    discriminator = keras.Model(logits.input, layers.Activation("sigmoid", name="validity")(logits.output),
                                name="discriminator")
    discriminator.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    vgg = build_vgg(vgg_layer, vgg_weights, channels)
    vgg.trainable = False
    lr_ip, hr_ip = keras.Input((lr_size, lr_size, channels)), keras.Input((hr_size, hr_size, channels))
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

