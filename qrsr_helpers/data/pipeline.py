"""Pairs to ``tf.data``: crops, batching, augmentation and prefetch, all on whole batches in TensorFlow ops;
``(lr, hr)`` float32 in [0, 1]."""

from __future__ import annotations

import tensorflow as tf

from ..config import Config
from .augment import Augmentation, random_augment
from .pairs import Pairs


def _area_downscale(hr: tf.Tensor, lr_size: int) -> tf.Tensor:
    """uint8 LR of a uint8 HR batch: box average, rounded; equals ``cv2.INTER_AREA`` for integer factors."""
    lr = tf.image.resize(tf.cast(hr, tf.float32), (lr_size, lr_size), method="area")
    return tf.cast(tf.round(lr), tf.uint8)


def _aligned_crop(crop: int, scale: int):
    """``(seed, lr, hr) -> (lr crop, hr crop)`` showing the same place (BasicSR's ``paired_random_crop``): as many
    module edges per step at a fraction of the cost."""

    def cut(seed, lr, hr):
        limit = tf.shape(lr)[0] - crop + 1
        y, x = tf.unstack(tf.random.stateless_uniform([2], seed, 0, limit, dtype=tf.int32))
        return (tf.slice(lr, [y, x, 0], [crop, crop, -1]),
                tf.slice(hr, [y * scale, x * scale, 0], [crop * scale, crop * scale, -1]))

    return cut


def make_dataset(pairs: Pairs, config: Config, training: bool) -> tf.data.Dataset:
    """``(lr, hr)`` float32 batches in [0, 1]. Training: shuffled, repeated (give ``fit`` steps), cropped when
    ``config.crop_size`` is set; with ``config.augment`` the HR is augmented and its LR re-derived (clean
    degradation), so the pair stays aligned. Else: in order, once."""
    if pairs.hr.shape[1:3] != (config.hr_size, config.hr_size) or pairs.hr.shape[3] != config.channels:
        raise ValueError(f"pairs have HR shape {pairs.hr.shape[1:]}, the config wants "
                         f"({config.hr_size}, {config.hr_size}, {config.channels})")
    if training and len(pairs) < config.batch_size:
        raise ValueError(f"{len(pairs)} training pairs cannot fill one batch of {config.batch_size}")
    dataset = tf.data.Dataset.from_tensor_slices((pairs.lr, pairs.hr))
    if training:
        dataset = dataset.shuffle(len(pairs), seed=config.data_seed, reshuffle_each_iteration=True).repeat()
        if config.crop_size:
            crop = _aligned_crop(config.crop_size, config.scale)
            dataset = dataset.enumerate().map(lambda i, pair: crop(tf.stack([config.data_seed, i]), *pair),
                                              num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.batch(config.batch_size, drop_remainder=training, num_parallel_calls=tf.data.AUTOTUNE)
    if training and config.augment:

        def augment(step, batch):
            hr = random_augment(batch[1], tf.stack([tf.constant(config.data_seed, tf.int64), step]), Augmentation())
            return _area_downscale(hr, config.crop_size or config.lr_size), hr

        dataset = dataset.enumerate().map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    to_float = lambda lr, hr: (tf.cast(lr, tf.float32) / 255.0, tf.cast(hr, tf.float32) / 255.0)
    return dataset.map(to_float, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

