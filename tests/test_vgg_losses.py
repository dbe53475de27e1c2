"""VGG19 features (weights from a file, the cache, or a clear error; never a hang) and the losses."""

import math
import socket
import time
import warnings

import keras
import numpy as np
import pytest

from qrsr_helpers import losses, srgan
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
    monkeypatch.setattr(vgg_module, "host_reachable", lambda *a, **k: pytest.fail("probed the network"))
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


@pytest.mark.slow
def test_imagenet_offline_fails_fast_even_when_dns_hangs(offline_keras_home, monkeypatch):
    """The reported hang: a firewall drops packets and name resolution blocks for minutes. The
    reachability probe gives up after PROBE_TIMEOUT_S and the error says how to supply the file."""
    def hang(*args, **kwargs):
        time.sleep(600)

    monkeypatch.setattr(socket, "create_connection", hang)
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: pytest.fail("tried to download"))
    start = time.monotonic()
    with pytest.raises(VGGWeightsUnavailable, match="not reachable") as error:
        build_vgg(weights="imagenet")
    assert time.monotonic() - start < 30
    assert vgg_module.NOTOP_FILE in str(error.value) and "QRSR_VGG_WEIGHTS" in str(error.value)
    assert not (offline_keras_home / "models" / vgg_module.NOTOP_FILE).exists()


def test_imagenet_failed_download_is_reported(offline_keras_home, monkeypatch):
    """Reachable host, failing download (proxy, 403, disk full): the cause is in the message."""
    monkeypatch.setattr(vgg_module, "host_reachable", lambda *a, **k: True)

    def refuse(*args, **kwargs):
        raise OSError("HTTP Error 403: Forbidden")

    monkeypatch.setattr(keras.utils, "get_file", refuse)
    with pytest.raises(VGGWeightsUnavailable, match="403"):
        build_vgg(weights="imagenet")


# --- losses --------------------------------------------------------------------------------------


def test_pixel_losses_on_known_values():
    hr = np.array([[0.0, 1.0, 0.5, 0.5]], np.float32)
    sr = np.array([[0.5, 0.0, 0.5, 0.7]], np.float32)
    assert float(losses.pixel_loss("l1")(hr, sr)) == pytest.approx((0.5 + 1.0 + 0.0 + 0.2) / 4)
    assert float(losses.pixel_loss("mse")(hr, sr)) == pytest.approx((0.25 + 1.0 + 0.0 + 0.04) / 4)
    with pytest.raises(ValueError, match="'l3'"):
        losses.pixel_loss("l3")


def test_binarised_l1_charges_only_pixels_on_the_wrong_side_of_the_local_threshold():
    hr = np.zeros((1, 8, 8, 3), np.float32)
    hr[:, :, 4:] = 1.0  # dark left half, light right half: local mean 0.5 near the edge
    loss = losses.pixel_loss("l1+binary")
    assert float(loss(hr, hr)) == pytest.approx(0.0)
    l1 = losses.pixel_loss("l1")
    grey = np.full_like(hr, 0.5)  # every pixel on the threshold: L1 0.5 plus the whole margin (0.08)
    assert float(loss(hr, grey)) == pytest.approx(float(l1(hr, grey)) + 0.08, abs=1e-6)
    right_side = np.where(hr > 0.5, 0.8, 0.2).astype(np.float32)  # well past the threshold: L1 alone
    assert float(loss(hr, right_side)) == pytest.approx(float(l1(hr, right_side)), abs=1e-6)
    wrong_side = 1.0 - right_side  # same L1 distance per pixel... and more, every pixel inverted
    assert float(loss(hr, wrong_side)) > float(l1(hr, wrong_side))


def _box_mean(image: np.ndarray, window: int) -> np.ndarray:
    """Mean over the ``window`` x ``window`` neighbours inside the image (what "same" average pooling does)."""
    import cv2

    sums = cv2.boxFilter(image, -1, (window, window), normalize=False, borderType=cv2.BORDER_CONSTANT)
    counts = cv2.boxFilter(np.ones_like(image), -1, (window, window), normalize=False,
                           borderType=cv2.BORDER_CONSTANT)
    return sums / counts


def test_binarised_l1_pixel_by_pixel_against_its_formula():
    """Every pixel of the loss with its defaults (window 17, confident 0.12, margin 0.08) against a NumPy
    computation of its docstring: L1 over channels plus the hinge where HR is confidently dark or light."""
    rng = np.random.default_rng(5)
    hr = np.clip((rng.random((2, 40, 40, 3)) > 0.5) * 0.9 + 0.05 + rng.normal(0, 0.05, (2, 40, 40, 3)), 0, 1)
    sr = np.clip(hr + rng.normal(0, 0.25, hr.shape), 0, 1)
    hr, sr = hr.astype(np.float32), sr.astype(np.float32)
    loss = losses.BinarisedL1(weight=2.0)
    grey_hr, grey_sr = hr.mean(-1), sr.mean(-1)
    local = np.stack([_box_mean(g, 17) for g in grey_hr])
    side = grey_hr - local
    hinge = np.maximum(0.08 - np.sign(side) * (grey_sr - local), 0) * (np.abs(side) > 0.12)
    expected = np.abs(hr - sr).mean(-1) + 2.0 * hinge
    assert hinge.mean() > 0.01 and (hinge == 0).mean() > 0.3  # both cases occur in this image
    np.testing.assert_allclose(np.asarray(loss.call(hr, sr)), expected, atol=2e-5)
    assert float(loss(hr, sr)) == pytest.approx(float(expected.mean()), abs=2e-5)
    assert losses.BinarisedL1.from_config(loss.get_config()).get_config() == loss.get_config()
    assert losses.pixel_loss("l1+binary").name == "l1_binary"  # the name the training history logs
    half = np.asarray(loss.call(hr.astype(np.float16), sr.astype(np.float16)))  # mixed precision's outputs
    assert half.dtype == np.float32  # computed in float32 whatever the inputs are
    np.testing.assert_allclose(half, np.asarray(loss.call(hr.astype(np.float16).astype(np.float32),
                                                          sr.astype(np.float16).astype(np.float32))), atol=1e-6)


def test_vgg_content_loss_is_feature_mse():
    double = lambda x: 2.0 * x  # a stand-in feature extractor with known features
    hr = np.zeros((1, 2, 2, 1), np.float32)
    sr = np.full((1, 2, 2, 1), 0.5, np.float32)
    assert float(losses.vgg_content_loss(double, hr, sr)) == pytest.approx(1.0)  # (2 * 0.5) ** 2
    big = np.full((1, 2, 2, 1), 200.0, np.float16)  # float16 features: their square overflows float16
    assert float(losses.vgg_content_loss(double, big, np.zeros_like(big))) == pytest.approx(160_000.0)
    assert float(losses.vgg_content_loss(double, hr, hr)) == 0.0


def test_vgg_content_loss_with_the_real_network():
    vgg = quiet_build("block2_conv2", weights=None)
    hr = np.random.default_rng(4).random((1, 24, 24, 3), np.float32)
    expected = np.mean((np.asarray(vgg(hr)) - np.asarray(vgg(1.0 - hr))) ** 2)
    assert float(losses.vgg_content_loss(vgg, hr, 1.0 - hr)) == pytest.approx(expected, rel=1e-5)


def test_adversarial_losses_from_logits():
    zero = np.zeros((4, 1), np.float32)  # D undecided: p = 0.5 everywhere
    d_loss, g_loss = srgan.adversarial_losses(zero, zero)
    assert float(d_loss) == pytest.approx(2 * math.log(2), rel=1e-5)
    assert float(g_loss) == pytest.approx(math.log(2), rel=1e-5)
    # A confident D: sigmoid(-30) underflows in float16, log(sigmoid) from logits stays exact.
    d_loss, g_loss = srgan.adversarial_losses(np.full((4, 1), 30.0, np.float16), np.full((4, 1), -30.0, np.float16))
    assert float(d_loss) == pytest.approx(0.0, abs=1e-6)
    assert float(g_loss) == pytest.approx(30.0, rel=1e-4)
