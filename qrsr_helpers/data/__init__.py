"""Data: synthetic codes, degradations, pairs, user folders, augmentation and the tf.data pipeline."""

from .pairs import Pairs, generate_pairs, load_or_generate

__all__ = ["Pairs", "generate_pairs", "load_or_generate"]
