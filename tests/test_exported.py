"""The fast path: shipped ONNX exports match their Keras weights, the backend and precision choices, and
no TensorFlow on the way from a photo to its decoded payload."""

import shutil
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from qrsr_helpers.config import Config
from qrsr_helpers.data.pairs import generate_pairs
from qrsr_helpers.decode import decode_outcomes
from qrsr_helpers.errors import BadFile, InvalidArgument
from qrsr_helpers.inference import super_resolve
from qrsr_helpers.models import exported
from qrsr_helpers.models.exported import ExportedGenerator, choose_precision
from qrsr_helpers.models.registry import BUNDLED, choose_backend, export_path, load_generator, weights_path


@pytest.fixture(scope="module")
def codes():
    return generate_pairs(48, seed=4242, degradation="realistic")


@pytest.mark.parametrize("model", list(BUNDLED))
def test_each_shipped_export_computes_what_its_keras_weights_compute(model, codes):
    path = weights_path(model)
    assert export_path(path).is_file(), f"{export_path(path).name} is not shipped: python scripts/export_onnx.py"
    keras_model = load_generator(model, backend="keras")
    onnx_model = load_generator(model, backend="onnx", precision="fp32")
    assert isinstance(onnx_model, ExportedGenerator) and onnx_model.precision == "fp32"
    odd = np.random.default_rng(0).random((2, 23, 37, 3)).astype(np.float32)  # any size, not only 32 x 32
    difference = np.abs(onnx_model(odd) - np.asarray(keras_model(odd, training=False))).max()
    assert difference < 1e-4, f"{model}: export drifted from its weights by {difference}"
    by_keras, by_onnx = super_resolve(keras_model, codes.lr), super_resolve(onnx_model, codes.lr)
    assert np.abs(by_keras.astype(int) - by_onnx).max() <= 1  # rounding to uint8 at most
    for decoder in ("zxing", "cascade"):
        np.testing.assert_array_equal(decode_outcomes(by_keras, codes.payloads, decoder)[0],
                                      decode_outcomes(by_onnx, codes.payloads, decoder)[0])


@pytest.fixture(scope="module")
def held_out():
    """Codes the bundled generators never saw (the evaluation seed), with the realistic camera degradation."""
    return generate_pairs(120, seed=Config.eval_seed, degradation="realistic")


def test_the_default_precision_reads_what_keras_fp32_reads(held_out):
    """What users run (OpenVINO, bf16 where the CPU computes it) against the Keras model in float32: the same
    codes decoded by the product's cascade, within 2 of 120, and never a misread. Where the CPU has no bf16
    the default is fp32, which is what is checked then (the reason is given as a warning)."""
    default = load_generator("srresnet")
    if default.precision != "bf16":
        cpu = exported._core().get_property("CPU", "FULL_DEVICE_NAME")
        warnings.warn(f"this CPU ({cpu}) has no bf16: the default precision checked is fp32", stacklevel=1)
    exact = load_generator("srresnet", backend="keras")
    fast_sr, exact_sr = super_resolve(default, held_out.lr), super_resolve(exact, held_out.lr)
    assert np.abs(fast_sr.astype(int) - exact_sr).max() <= (40 if default.precision == "bf16" else 1)
    fast, fast_misread = decode_outcomes(fast_sr, held_out.payloads, "cascade")
    slow, slow_misread = decode_outcomes(exact_sr, held_out.payloads, "cascade")
    assert abs(int(fast.sum()) - int(slow.sum())) <= 2, (fast.sum(), slow.sum())
    assert not fast_misread.any() and not slow_misread.any()


def test_the_bundled_generator_keeps_its_measured_decode_rate(held_out):
    """An absolute floor, not only "beats bicubic": the model card's 1,000-code evaluation reads 32.6 %
    (realistic, cascade); on these 120 held-out codes the shipped SRResNet reads 42 (35.0 %; bf16 on an Intel
    Xeon; 41 in fp32 and in Keras) and bicubic 3 — a generator that lost its training would read ~bicubic's."""
    from qrsr_helpers.evaluate import interpolation_upscaler

    generated = decode_outcomes(super_resolve(load_generator("srresnet"), held_out.lr), held_out.payloads, "cascade")
    bicubic = decode_outcomes(interpolation_upscaler("bicubic")(held_out.lr), held_out.payloads, "cascade")
    assert generated[0].mean() >= 0.28, f"the bundled generator reads {generated[0].mean():.1%} of 120 codes"
    assert generated[0].sum() >= bicubic[0].sum() + 12 and not generated[1].any()


def test_without_bf16_every_choice_falls_back_to_fp32(monkeypatch):
    monkeypatch.setattr(exported, "bf16_supported", lambda: False)
    assert choose_precision("auto") == choose_precision("bf16") == "fp32"
    model = ExportedGenerator(export_path(weights_path("srresnet")), "bf16")
    assert model.precision == "fp32" and model(np.zeros((1, 8, 8, 3), np.float32)).shape == (1, 32, 32, 3)
    monkeypatch.setattr(exported, "bf16_supported", lambda: True)
    monkeypatch.setenv(exported.PRECISION_ENV, "fp32")
    assert choose_precision() == "fp32" and choose_precision("bf16") == "bf16"
    with pytest.raises(InvalidArgument, match="'fp8'"):
        choose_precision("fp8")


def test_backend_choice(tmp_path, monkeypatch):
    bundled = weights_path("srresnet")
    assert choose_backend(bundled) == "onnx" and choose_backend(bundled, "keras") == "keras"
    own = tmp_path / "mine.weights.h5"  # a learner's file: Keras, unless asked and exported
    shutil.copy(bundled, own)
    assert choose_backend(own) == "keras"
    with pytest.raises(InvalidArgument, match="no ONNX export beside it"):
        choose_backend(own, "onnx")
    shutil.copy(export_path(bundled), export_path(own))
    assert choose_backend(own, "onnx") == "onnx" and choose_backend(own) == "keras"
    monkeypatch.setenv("QRSR_BACKEND", "keras")
    assert choose_backend(bundled) == "keras"
    with pytest.raises(InvalidArgument, match="'tflite'"):
        choose_backend(bundled, "tflite")


def test_a_corrupt_export_is_one_clear_error(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(BadFile, match="broken.onnx: not a readable ONNX model"):
        ExportedGenerator(broken, "fp32")


def test_enhance_and_decode_a_photo_without_tensorflow(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        sys.modules["tensorflow"] = None  # any import of TensorFlow now fails
        from qrsr_helpers.data.scenes import synthetic_photo
        from qrsr_helpers.io import write_image
        from qrsr_helpers.cli import main
        shot = synthetic_photo(3, module_px=1.6)
        write_image("{tmp_path}/photo.png", shot.image)
        code = main(["enhance", "{tmp_path}/photo.png", "-o", "{tmp_path}/out.png", "--decode"])
        assert "keras" not in sys.modules, "Keras was imported"
        print("exit", code)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "exit 0" in done.stdout and (tmp_path / "out.png").is_file()
