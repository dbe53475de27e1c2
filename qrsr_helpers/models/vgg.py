"""VGG19 features for the perceptual loss, taking [0, 1] pixels. Weights: a local file; ``"imagenet"``:
``QRSR_VGG_WEIGHTS``, Keras' cache, else a download that fails with one clear error, never a hang; ``None``: random."""

from __future__ import annotations

import os
import socket
import warnings
from collections.abc import Sequence
from pathlib import Path

import keras
from keras import layers, ops

from ..errors import BadFile

NOTOP_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
NOTOP_URL = "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/" + NOTOP_FILE
NOTOP_MD5 = "253f8cb515780f3b799900260a226db6"  # the hash keras.applications.VGG19 checks
FEATURE_SCALE = 1.0 / 12.75  # the SRGAN paper's rescaling of VGG feature maps
DOWNLOAD_TIMEOUT_S = 20  # a connection or read that stalls longer fails the download


class VGGWeightsUnavailable(BadFile, FileNotFoundError):
    """VGG19 weights could not be found, read or downloaded; the message says how to provide them."""


@keras.saving.register_keras_serializable(package="qrsr")
class ImageNetPreprocess(layers.Layer):
    """[0, 1] RGB (or grey) -> ``vgg19.preprocess_input(255 * x)``, inside the model: no caller forgets the BGR flip."""

    def call(self, x):
        if x.shape[-1] == 1:
            x = ops.repeat(x, 3, axis=-1)
        bgr = ops.flip(x, axis=-1) * 255.0
        return bgr - ops.convert_to_tensor((103.939, 116.779, 123.68), dtype=bgr.dtype)  # ImageNet's BGR mean


def download_imagenet_weights() -> str:
    """The ImageNet notop file from Keras' cache, else downloaded, else a :class:`VGGWeightsUnavailable` saying how."""
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()  # now: Keras reads it at import
    cached = home / "models" / NOTOP_FILE
    if cached.is_file():
        return str(cached)
    old_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)  # get_file's urllib has no timeout: a silent host would hang it
    try:
        return keras.utils.get_file(NOTOP_FILE, NOTOP_URL, cache_subdir="models", file_hash=NOTOP_MD5,
                                    cache_dir=str(home))
    except Exception as error:
        raise VGGWeightsUnavailable(
            f"ImageNet VGG19 weights are not cached in {cached.parent} and the download failed ({type(error).__name__}:"
            f" {error}). Offline, put '{NOTOP_FILE}' there, or set QRSR_VGG_WEIGHTS=/path/to/vgg19.h5, or pass "
            "weights=<path> (weights=None: random features, architecture only).") from error
    finally:
        socket.setdefaulttimeout(old_timeout)


def vgg_weights_file(weights: str | os.PathLike | None) -> str | None:
    """The weights file Keras' VGG19 should load (None: random), or a :class:`VGGWeightsUnavailable`."""
    if weights is None:
        warnings.warn("VGG19 with RANDOM weights: architecture and cost only, not a perceptual loss. "
                      "Pass weights='imagenet' online or a local file (QRSR_VGG_WEIGHTS) for real features.",
                      stacklevel=3)
        return None
    if str(weights) == "imagenet":
        return vgg_weights_file(env) if (env := os.environ.get("QRSR_VGG_WEIGHTS")) else download_imagenet_weights()
    path = Path(weights).expanduser()
    if not path.is_file():
        raise VGGWeightsUnavailable(f"VGG19 weights file not found: {path}")
    return str(path)


# --- lesson build-vgg: notebook 05 shows this text verbatim ---
def build_vgg(layer: str | Sequence[str] = "block3_conv4", weights: str | os.PathLike | None = None,
              channels: int = 3, rescale: bool = False, name: str | None = None) -> keras.Model:
    """VGG19 truncated at ``layer`` (``block3_conv4`` = the tutorial's ``layers[10]``, ``block5_conv4``
    = the paper's VGG54), frozen, taking [0, 1] pixels of any size. ``rescale`` divides the features
    by 12.75 as the SRGAN paper did. A list of layers gives a model with one output per layer (the
    feature maps a lesson shows side by side; multi-layer perceptual losses)."""
    names = [layer] if isinstance(layer, str) else list(layer)
    resolved = vgg_weights_file(weights)
    try:
        vgg = keras.applications.VGG19(include_top=False, weights=resolved, input_shape=(None, None, 3))
    except Exception as error:
        raise VGGWeightsUnavailable(f"could not load VGG19 weights from {resolved}: {error}") from error
    known = [layer.name for layer in vgg.layers if "conv" in layer.name]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise ValueError(f"VGG19 has no layer {unknown or names!r}; conv layers: {known}")
    features = [vgg.get_layer(n).output for n in names]
    label = "-".join(names)  # "+" is not allowed in a TF name scope (predict() fails)
    body = keras.Model(vgg.input, features if len(names) > 1 else features[0], name=f"vgg19_{label}")
    body.trainable = False
    image = keras.Input((None, None, channels), name="image")
    x = body(ImageNetPreprocess(name="imagenet_preprocess")(image))
    if rescale:
        scale = layers.Rescaling(FEATURE_SCALE, name="paper_rescale")
        x = [scale(f) for f in x] if len(names) > 1 else scale(x)
    model = keras.Model(image, x, name=name or f"vgg_{label}")
    model.trainable = False
    model.weights_source = "random" if resolved is None else resolved  # what a notebook prints as its label
    return model
# --- end of lesson build-vgg ---
