"""VGG19 features (weights from a file, the cache, or a clear error; never a hang) and the losses."""

import socket
import time
import warnings

import keras
import numpy as np
import pytest

from qrsr_helpers.models import VGGWeightsUnavailable, build_vgg
from qrsr_helpers.models import vgg as vgg_module
from qrsr_helpers.models.vgg import ImageNetPreprocess


@pytest.fixture(scope="module")
def random_vgg19():
    """A notop VGG19 with random weights: the stand-in for the ImageNet file in every loading test."""
    keras.utils.set_random_seed(0)
    return keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))


@pytest.fixture
def offline_keras_home(tmp_path, monkeypatch):
    """An empty Keras cache and no QRSR_VGG_WEIGHTS: 'imagenet' must come from the cache or the network."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("QRSR_VGG_WEIGHTS", raising=False)
    return tmp_path / "keras"


def reference_features(vgg19, layer: str, x: np.ndarray) -> np.ndarray:
    body = keras.Model(vgg19.input, vgg19.get_layer(layer).output)
    return np.asarray(body(keras.applications.vgg19.preprocess_input(255.0 * x)))


def quiet_build(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_vgg(*args, **kwargs)


@pytest.mark.parametrize("filename", ["vgg19.weights.h5", "vgg19_legacy.h5"])
def test_loads_a_local_weights_file(random_vgg19, tmp_path, filename):
    path = tmp_path / filename
    if filename.endswith(".weights.h5"):
        random_vgg19.save_weights(path)  # Keras 3 weights format
    else:
        random_vgg19.save(path)  # legacy HDF5, the format of Keras' own ImageNet file
    model = build_vgg("block3_conv4", weights=path)
    x = np.random.default_rng(0).random((2, 40, 48, 3), np.float32)
    np.testing.assert_allclose(np.asarray(model(x)), reference_features(random_vgg19, "block3_conv4", x),
                               rtol=1e-4, atol=1e-3)
    assert model.weights_source == str(path)
    assert not model.trainable and not model.trainable_weights


def test_imagenet_reads_keras_cache_without_network(random_vgg19, offline_keras_home, monkeypatch):
    cached = offline_keras_home / "models" / vgg_module.NOTOP_FILE
    cached.parent.mkdir(parents=True)
    random_vgg19.save(cached)
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: pytest.fail("tried to download"))
    model = build_vgg("block5_conv4", weights="imagenet")
    x = np.random.default_rng(1).random((1, 32, 32, 3), np.float32)
    np.testing.assert_allclose(np.asarray(model(x)), reference_features(random_vgg19, "block5_conv4", x),
                               rtol=1e-4, atol=1e-3)
    assert model.weights_source == str(cached)


def test_imagenet_prefers_qrsr_vgg_weights(random_vgg19, offline_keras_home, tmp_path, monkeypatch):
    path = tmp_path / "mine.weights.h5"
    random_vgg19.save_weights(path)
    monkeypatch.setenv("QRSR_VGG_WEIGHTS", str(path))
    assert build_vgg(weights="imagenet").weights_source == str(path)


def test_feature_shapes_at_128():
    for layer, shape in [("block3_conv4", (32, 32, 256)), ("block5_conv4", (8, 8, 512))]:
        model = quiet_build(layer, weights=None)
        assert tuple(model(np.zeros((1, 128, 128, 3), np.float32)).shape) == (1, *shape)


def test_several_layers_give_one_output_each(random_vgg19, tmp_path):
    path = tmp_path / "vgg19.weights.h5"
    random_vgg19.save_weights(path)
    layers = ["block1_conv2", "block3_conv4", "block5_conv4"]
    model = build_vgg(layers, weights=path, rescale=True)
    x = np.random.default_rng(5).random((1, 64, 64, 3), np.float32)
    outputs = model.predict(x, verbose=0)  # predict() runs under a name scope built from the layer names
    assert [tuple(o.shape) for o in outputs] == [(1, 64, 64, 64), (1, 16, 16, 256), (1, 4, 4, 512)]
    for layer, out in zip(layers, outputs):
        np.testing.assert_allclose(np.asarray(out), reference_features(random_vgg19, layer, x) / 12.75,
                                   rtol=1e-4, atol=1e-3)


def test_grey_input_is_seen_as_rgb():
    model = quiet_build("block1_conv2", weights=None, channels=1)
    grey = np.random.default_rng(2).random((1, 16, 16, 1), np.float32)
    rgb_model = keras.Model(model.layers[-1].input, model.layers[-1].output)  # the VGG body
    expected = rgb_model(ImageNetPreprocess()(np.repeat(grey, 3, axis=-1)))
    np.testing.assert_allclose(np.asarray(model(grey)), np.asarray(expected), rtol=1e-5, atol=1e-4)


def test_preprocessing_equals_keras_preprocess_input():
    x = np.random.default_rng(3).random((2, 8, 9, 3), np.float32)
    ours = np.asarray(ImageNetPreprocess()(x))
    np.testing.assert_allclose(ours, keras.applications.vgg19.preprocess_input(255.0 * x), rtol=1e-5, atol=1e-4)


def test_random_weights_warn_loudly():
    with pytest.warns(UserWarning, match="RANDOM weights"):
        model = build_vgg(weights=None)
    assert model.weights_source == "random"


def test_missing_file_is_named(tmp_path):
    missing = tmp_path / "nowhere" / "vgg19.h5"
    with pytest.raises(VGGWeightsUnavailable, match="nowhere/vgg19.h5") as error:
        build_vgg(weights=missing)
    assert isinstance(error.value, FileNotFoundError)  # the CLI's one-line, exit-2 path


def test_unreadable_file_is_named(tmp_path):
    bad = tmp_path / "broken.h5"
    bad.write_bytes(b"not an HDF5 file")
    with pytest.raises(VGGWeightsUnavailable, match="broken.h5"):
        build_vgg(weights=bad)


def test_unknown_layer_lists_the_choices():
    with pytest.raises(ValueError, match="block5_conv4"):
        quiet_build("block9_conv1", weights=None)


def test_imagenet_download_from_a_silent_host_fails_in_seconds_naming_the_fix(offline_keras_home, monkeypatch):
    """The reported hang: a host (firewall, dead proxy) that accepts the connection and never answers."""
    silent = socket.create_server(("127.0.0.1", 0))
    monkeypatch.setattr(vgg_module, "NOTOP_URL", f"http://127.0.0.1:{silent.getsockname()[1]}/vgg19.h5")
    monkeypatch.setattr(vgg_module, "DOWNLOAD_TIMEOUT_S", 1)
    start = time.monotonic()
    with silent, pytest.raises(VGGWeightsUnavailable, match="download failed") as error:
        build_vgg(weights="imagenet")
    assert time.monotonic() - start < 30
    assert vgg_module.NOTOP_FILE in str(error.value) and "QRSR_VGG_WEIGHTS" in str(error.value)
    assert not (offline_keras_home / "models" / vgg_module.NOTOP_FILE).exists()
    assert socket.getdefaulttimeout() is None  # the process's other sockets are left as they were


def test_imagenet_failed_download_is_reported(offline_keras_home, monkeypatch):
    """Reachable host, failing download (proxy, 403, disk full): the cause is in the message."""
    def refuse(*args, **kwargs):
        raise OSError("HTTP Error 403: Forbidden")

    monkeypatch.setattr(keras.utils, "get_file", refuse)
    with pytest.raises(VGGWeightsUnavailable, match="403"):
        build_vgg(weights="imagenet")


# --- losses --------------------------------------------------------------------------------------
