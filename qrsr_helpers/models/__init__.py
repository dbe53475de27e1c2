"""Models: ``build_generator``, ``build_discriminator``, ``build_vgg``; their cost: ``conv_macs``."""

from .cost import conv_macs, layer_macs
from .discriminator import build_discriminator
from .generator import build_generator
from .vgg import VGGWeightsUnavailable, build_vgg

__all__ = ["build_generator", "build_discriminator", "build_vgg", "VGGWeightsUnavailable", "conv_macs", "layer_macs"]
