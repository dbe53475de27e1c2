"""Models: ``build_generator``, ``build_discriminator``, ``build_vgg``."""

from .discriminator import build_discriminator
from .generator import build_generator
from .vgg import VGGWeightsUnavailable, build_vgg

__all__ = ["build_generator", "build_discriminator", "build_vgg", "VGGWeightsUnavailable"]
