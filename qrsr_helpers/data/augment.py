"""The tutorial's ``ImageDataGenerator`` (gone from Keras 3) in TensorFlow ops, with its semantics (shear in degrees,
zoom > 1 zooming out). Stateless seeds: the same images in any ``tf.data`` order. Augment HR and derive the LR from it
(``pipeline.py`` does): augmenting both would break their alignment."""

from __future__ import annotations

import math
from dataclasses import dataclass

import tensorflow as tf

FILL_MODES = ("nearest", "constant", "reflect", "wrap")


@dataclass(frozen=True)
class Augmentation:
    """Ranges in ``ImageDataGenerator``'s units; the defaults are the tutorial's settings."""

    rotation: float = 40.0  # degrees, uniform in [-rotation, rotation]
    shear: float = 0.2  # degrees (sic: ImageDataGenerator's unit), uniform in [-shear, shear]
    zoom: float = 0.2  # row and column zoom each uniform in [1 - zoom, 1 + zoom]; > 1 zooms out
    horizontal_flip: bool = True  # mirror with probability 1/2
    brightness: tuple[float, float] = (0.5, 1.5)  # multiplicative factor range
    fill_mode: str = "nearest"  # what appears outside the transformed image

    def __post_init__(self) -> None:
        if self.fill_mode not in FILL_MODES:
            raise ValueError(f"fill_mode={self.fill_mode!r} is not one of {list(FILL_MODES)}")
        if not 0 <= self.zoom < 1:
            raise ValueError(f"zoom={self.zoom} must lie in [0, 1)")
        if not 0 < self.brightness[0] <= self.brightness[1]:
            raise ValueError(f"brightness={self.brightness} must be a range (low, high) with 0 < low <= high")


TUTORIAL = Augmentation()


def _per_image(value, n: tf.Tensor) -> tf.Tensor:
    return tf.broadcast_to(tf.cast(value, tf.float32), [n])


def transform(images, rotation=0.0, shear=0.0, zoom=(1.0, 1.0), flip=False, brightness=1.0,
              fill_mode: str = "nearest") -> tf.Tensor:
    """Given parameters (scalars or one per image) as ``ImageDataGenerator`` applies them (``rotation`` > 0: clockwise
    on screen; ``zoom``: (rows, columns)). ``images``: uint8 or float in [0, 1], HWC or NHWC; same dtype, shape out."""
    images = tf.convert_to_tensor(images)
    dtype, single = images.dtype, images.shape.rank == 3
    x = tf.cast(images[None] if single else images, tf.float32)
    if x.shape.rank != 4:
        raise ValueError(f"images must be HWC or NHWC, got shape {images.shape}")
    x = x / 255.0 if dtype == tf.uint8 else x
    n, h, w = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
    theta = _per_image(rotation, n) * (math.pi / 180)
    shear = _per_image(shear, n) * (math.pi / 180)
    zoom_rows, zoom_cols = (_per_image(z, n) for z in (zoom if isinstance(zoom, (tuple, list)) else (zoom, zoom)))
    mirrored = _per_image(tf.cast(flip, tf.float32), n) > 0.5
    # ImageDataGenerator's output->input map in (row, col) coordinates: rotation @ shear @ zoom.
    # With c = cos, s = sin: [[c, -s], [s, c]] @ [[1, -sin(shear)], [0, cos(shear)]] @ diag(zoom_rows, zoom_cols).
    cos, sin, shear_sin, shear_cos = tf.cos(theta), tf.sin(theta), tf.sin(shear), tf.cos(shear)
    m00 = cos * zoom_rows
    m01 = (-cos * shear_sin - sin * shear_cos) * zoom_cols
    m10 = sin * zoom_rows
    m11 = (-sin * shear_sin + cos * shear_cos) * zoom_cols
    # About the image centre (o_r, o_c); then the flip (applied after the affine: col -> w - 1 - col).
    o_r, o_c = (tf.cast(h, tf.float32) - 1) / 2, (tf.cast(w, tf.float32) - 1) / 2
    m02 = o_r - m00 * o_r - m01 * o_c
    m12 = o_c - m10 * o_r - m11 * o_c
    flip_sign = tf.where(mirrored, -1.0, 1.0)
    flip_shift = tf.where(mirrored, tf.cast(w, tf.float32) - 1, 0.0)
    m02, m12 = m02 + m01 * flip_shift, m12 + m11 * flip_shift
    m01, m11 = m01 * flip_sign, m11 * flip_sign
    # TensorFlow wants (x=col, y=row): x_in = m11 x + m10 y + m12, y_in = m01 x + m00 y + m02.
    zeros = tf.zeros_like(m00)
    matrices = tf.stack([m11, m10, m12, m01, m00, m02, zeros, zeros], axis=1)
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=x, transforms=matrices, output_shape=tf.shape(x)[1:3], fill_value=1.0,
        interpolation="BILINEAR", fill_mode=fill_mode.upper())
    out = tf.clip_by_value(out * _per_image(brightness, n)[:, None, None, None], 0.0, 1.0)
    out = tf.cast(tf.round(out * 255.0), tf.uint8) if dtype == tf.uint8 else out
    return out[0] if single else out


def sample_parameters(n, seed, settings: Augmentation = TUTORIAL) -> dict[str, tf.Tensor]:
    """``n`` random parameter sets for :func:`transform`, from a stateless ``seed`` (two integers)."""
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 6)

    uniform = lambda i, low, high: tf.random.stateless_uniform([n], seeds[i], low, high)
    return dict(
        rotation=uniform(0, -settings.rotation, settings.rotation),
        shear=uniform(1, -settings.shear, settings.shear),
        zoom=(uniform(2, 1 - settings.zoom, 1 + settings.zoom), uniform(3, 1 - settings.zoom, 1 + settings.zoom)),
        flip=uniform(4, 0.0, 1.0) < (0.5 if settings.horizontal_flip else 0.0),
        brightness=uniform(5, *settings.brightness),
    )


def random_augment(images, seed, settings: Augmentation = TUTORIAL) -> tf.Tensor:
    """Each image with its own random parameters drawn from ``settings`` by ``seed`` (two integers)."""
    images = tf.convert_to_tensor(images)
    n = tf.shape(images)[0] if images.shape.rank == 4 else 1
    return transform(images, **sample_parameters(n, seed, settings), fill_mode=settings.fill_mode)
