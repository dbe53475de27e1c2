"""SRResNet generator (the SRGAN paper's G): [0, 1] pixels in and out (a linear output: callers clip); upsampling
``nearest`` (the tutorial's) or ``pixel_shuffle`` (the paper's, 3.6x cheaper; ICNR keeps it free of checkerboards)."""

from __future__ import annotations

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="qrsr")
class DepthToSpace(layers.Layer):
    """Pixel shuffle: (H, W, C*r*r) -> (H*r, W*r, C), backend-agnostic (keras.ops)."""

    def __init__(self, block_size: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.block_size = block_size

    def call(self, x):
        return ops.depth_to_space(x, self.block_size)

    def compute_output_shape(self, shape):
        r = self.block_size
        return (shape[0], *(None if n is None else n * r for n in shape[1:3]), shape[3] // (r * r))

    def get_config(self):
        return {**super().get_config(), "block_size": self.block_size}


@keras.saving.register_keras_serializable(package="qrsr")
class ICNR(keras.initializers.Initializer):
    """Sub-pixel conv init (Aitken et al. 2017): equal sub-pixel kernels, so depth-to-space starts as nearest-neighbour
    upsampling. It reads channel ``k * C + c`` for sub-pixel ``k`` of channel ``c`` ("DCR"): tiled, not repeated."""

    def __init__(self, scale: int = 2, seed: int | None = None):
        self.scale, self.seed = scale, seed

    def __call__(self, shape, dtype=None):
        r2 = self.scale * self.scale
        base = keras.initializers.HeNormal(seed=self.seed)((*shape[:3], shape[3] // r2), dtype=dtype)
        return ops.tile(base, (1, 1, 1, r2))

    def get_config(self):
        return {"scale": self.scale, "seed": self.seed}


def residual_block(x, filters: int, name: str):
    """conv3x3 -> BN -> PReLU -> conv3x3 -> BN, plus the skip (the tutorial's res_block_gen)."""
    y = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(momentum=0.5, name=f"{name}_bn1")(y)
    y = layers.PReLU(shared_axes=[1, 2], name=f"{name}_prelu")(y)
    y = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(momentum=0.5, name=f"{name}_bn2")(y)
    return layers.Add(name=f"{name}_add")([x, y])


def upscale_block(x, filters: int, upsampling: str, name: str):
    """x2 upsampling: the tutorial's (conv 256, UpSampling2D) or the paper's (conv 4f, pixel shuffle)."""
    if upsampling == "nearest":
        x = layers.Conv2D(256, 3, padding="same", name=f"{name}_conv")(x)
        x = layers.UpSampling2D(2, name=f"{name}_upsample")(x)
    elif upsampling == "pixel_shuffle":
        x = layers.Conv2D(filters * 4, 3, padding="same", kernel_initializer=ICNR(2), name=f"{name}_conv")(x)
        x = DepthToSpace(2, name=f"{name}_shuffle")(x)
    else:
        raise ValueError(f"upsampling={upsampling!r} is not one of ['nearest', 'pixel_shuffle']")
    return layers.PReLU(shared_axes=[1, 2], name=f"{name}_prelu")(x)


def build_generator(n_res_blocks: int = 16, n_upscale: int = 2, upsampling: str = "nearest",
                    channels: int = 3, filters: int = 64, name: str = "generator") -> keras.Model:
    """Fully convolutional: any H x W of [0, 1] pixels in, (H, W) * 2**n_upscale out."""
    if n_res_blocks < 0 or n_upscale < 1:
        raise ValueError(f"n_res_blocks={n_res_blocks} must be >= 0 and n_upscale={n_upscale} >= 1")
    lr = keras.Input((None, None, channels), name="lr")
    x = layers.Conv2D(filters, 9, padding="same", name="head_conv")(lr)
    x = head = layers.PReLU(shared_axes=[1, 2], name="head_prelu")(x)
    for i in range(n_res_blocks):
        x = residual_block(x, filters, name=f"res{i + 1}")
    x = layers.Conv2D(filters, 3, padding="same", name="trunk_conv")(x)
    x = layers.BatchNormalization(momentum=0.5, name="trunk_bn")(x)
    x = layers.Add(name="global_skip")([head, x])
    for i in range(n_upscale):
        x = upscale_block(x, filters, upsampling, name=f"up{i + 1}")
    sr = layers.Conv2D(channels, 9, padding="same", dtype="float32", name="sr")(x)
    return keras.Model(lr, sr, name=name)
