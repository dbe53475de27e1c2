"""Models, their cost and the weights ``registry``; names are loaded on first use, so ``models.registry`` (name
parsing, no Keras) stays cheap to import."""

from importlib import import_module

_HOMES = {"build_generator": "generator", "build_discriminator": "discriminator", "build_vgg": "vgg",
          "VGGWeightsUnavailable": "vgg", "conv_macs": "cost", "layer_macs": "cost",
          "generator_from_config": "registry", "load_pretrained": "registry"}
__all__ = list(_HOMES)


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
