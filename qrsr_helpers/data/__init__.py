"""Data: synthetic codes (``synth``), degradations (``degrade``), pairs (``pairs``), user folders (``folder``),
augmentation (``augment``) and the tf.data pipeline (``pipeline``)."""

from .pairs import Pairs, generate_pairs, load_or_generate

__all__ = ["Pairs", "generate_pairs", "load_or_generate"]
