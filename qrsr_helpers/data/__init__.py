"""Data: synthetic QR codes (``synth``), degradations (``degrade``), user folders (``folder``),
augmentation (``augment``) and the tf.data pipeline (``pipeline``)."""

from .degrade import degrade
from .pairs import Pairs, generate_pairs, load_or_generate
from .synth import QRCode, random_code, render_code

__all__ = ["Pairs", "QRCode", "degrade", "generate_pairs", "load_or_generate", "random_code", "render_code"]
