"""Pairs to ``tf.data``: crops, batching, augmentation and prefetch, in TensorFlow ops."""

from __future__ import annotations

import tensorflow as tf

from ..config import Config
from .augment import Augmentation, random_augment
from .pairs import Pairs


def make_dataset(pairs: Pairs, config: Config, training: bool) -> tf.data.Dataset:
    """``(lr, hr)`` float32 batches in [0, 1]. Training: shuffled, repeated (give ``fit`` steps), cropped, augmented
    as ``config`` says. Else: in order, once."""
    if pairs.hr.shape[1:3] != (config.hr_size, config.hr_size) or pairs.hr.shape[3] != config.channels:
        raise ValueError(f"pairs have HR shape {pairs.hr.shape[1:]}, the config wants "
                         f"({config.hr_size}, {config.hr_size}, {config.channels})")
    if training and len(pairs) < config.batch_size:
        raise ValueError(f"{len(pairs)} training pairs cannot fill one batch of {config.batch_size}")
    crop, scale, seed = config.crop_size, config.scale, config.data_seed
    dataset = tf.data.Dataset.from_tensor_slices((pairs.lr, pairs.hr))
    if training:
        dataset = dataset.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True).repeat()
        if crop:

            def aligned_crop(i, pair):  # LR and HR crops of the same place (BasicSR's paired_random_crop)
                lr, hr = pair
                limit = tf.shape(lr)[0] - crop + 1
                y, x = tf.unstack(tf.random.stateless_uniform([2], tf.stack([seed, i]), 0, limit, dtype=tf.int32))
                return (tf.slice(lr, [y, x, 0], [crop, crop, -1]),
                        tf.slice(hr, [y * scale, x * scale, 0], [crop * scale, crop * scale, -1]))

            dataset = dataset.enumerate().map(aligned_crop, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.batch(config.batch_size, drop_remainder=training, num_parallel_calls=tf.data.AUTOTUNE)
    if training and config.augment:

        def augment(step, batch):  # the LR re-derived by area averaging (cv2.INTER_AREA for integer factors)
            hr = random_augment(batch[1], tf.stack([tf.constant(seed, tf.int64), step]), Augmentation())
            lr = tf.image.resize(tf.cast(hr, tf.float32), (crop or config.lr_size,) * 2, method="area")
            return tf.cast(tf.round(lr), tf.uint8), hr

        dataset = dataset.enumerate().map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    to_float = lambda lr, hr: (tf.cast(lr, tf.float32) / 255.0, tf.cast(hr, tf.float32) / 255.0)
    return dataset.map(to_float, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
